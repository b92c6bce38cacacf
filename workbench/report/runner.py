"""Run the numbered notebooks with papermill, render HTML without code, write the run index.

A run lands in ``reports/<run-id>/``: one ``.html`` per notebook (no code
cells), the executed notebooks under ``executed/``, ``run.json`` and
``index.html``. ``reports/latest`` points at the newest run of the whole suite (every
numbered notebook) in which every notebook succeeded; a partial run (``--notebooks 01``),
a failed, interrupted or killed run never moves it. A taken run id gets the first free
suffix (``nightly-2``): a run is never overwritten. After a complete run the oldest runs
beyond ``report.keep`` are removed (:mod:`workbench.report.runs`).

Parameters are checked before anything runs: a name no selected notebook
declares, or a value that does not parse as the declared type, is a
:class:`~workbench.errors.ParameterError`. Names that look like secrets are refused outright,
because papermill writes parameters into the executed notebook. A name only some of the
notebooks declare goes to those, and the run says so.

One run at a time: a run holds ``reports/.report.lock`` from before it creates its folder
until its record is final (and old runs are pruned), and a second run refuses at once
(:class:`~workbench.errors.BusyError`). The record says how far the run got
(:class:`~workbench.report.results.RunState`) from the start, so a run killed outright is
left saying ``running`` with its unfinished notebooks listed. SIGINT and SIGTERM stop the
kernel, record the run as interrupted and raise :class:`RunInterrupted`. A notebook past
``report.timeout`` fails and the run goes on (:mod:`workbench.report.execute`).

Headline figures travel from a notebook to the index through
:func:`workbench.present.headline.show_headline`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

from workbench._secrets import redact
from workbench._util import timestamped_id, try_lock
from workbench.config import Config
from workbench.errors import ParameterError, ReportError
from workbench.report.execute import kernel_env, run_notebook
from workbench.report.index import write_run, write_runs_index
from workbench.report.params import (
    check_values,
    coerce_parameters,
    discover_notebooks,
    parameter_scope,
)
from workbench.report.results import RunResult, RunState
from workbench.report.runs import free_run_id, point_latest, prune_runs
from workbench.settings.types import positive_duration

__all__ = ["LOCK_NAME", "RunInterrupted", "new_run_id", "run_report"]

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")

#: The lock file under ``reports/`` that one report run at a time holds.
LOCK_NAME = ".report.lock"


class RunInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a report run.

    A :class:`KeyboardInterrupt`, so callers that stop on Ctrl-C stop on it too.
    ``result`` is the run as recorded (state ``interrupted``), once :func:`run_report` has
    recorded it; ``exit_status`` is the shell's convention, 128 + the signal number.
    """

    def __init__(self, signum: int, result: RunResult | None = None) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.result = result

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def _signals_interrupt():
    """While inside, SIGINT and SIGTERM raise :class:`RunInterrupted` (main thread only).

    Without this SIGTERM kills the process on the spot, with no record and no cleanup.
    After the first signal both are ignored until the block exits, so a second Ctrl-C
    cannot cut short the (bounded) cleanup the first one started.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; a KeyboardInterrupt is handled alike
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def interrupt(signum, frame):
        for sig in saved:
            signal.signal(sig, signal.SIG_IGN)
        raise RunInterrupted(signum)

    for sig in saved:
        signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _git_commit(root: Path) -> str:
    """The commit the run's code came from (``-dirty`` with local changes), or ``unknown``.

    ``--dirty`` may have to run the notebooks' git filter over every notebook (a fresh clone
    whose index was never refreshed): if that is slow, the commit alone is still worth having.
    """
    for argv, timeout in ((["git", "describe", "--always", "--dirty", "--abbrev=10"], 5), (["git", "rev-parse", "--short=10", "HEAD"], 5)):
        try:
            out = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
        except (OSError, subprocess.SubprocessError):
            return "unknown"
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip() + ("" if "describe" in argv else " (local changes not checked)")
    return "unknown"


def _relative(value: str, root: Path) -> str:
    """A path as a reader of the index may see it: relative to the project root, else its name."""
    path = Path(value)
    if not path.is_absolute():
        return value
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return path.name  # outside the project: its folder is a machine path


def _recorded(parameters: dict, root: Path) -> dict:
    """The parameters as the record shows them: paths relative to the project root."""
    return {k: _relative(v, root) if k.endswith("_path") and isinstance(v, str) else v for k, v in parameters.items()}


def _record(result: RunResult, reports: Path | None = None) -> None:
    """Write the run's record (and the runs index), or raise a :class:`ReportError` naming the cause."""
    try:
        write_run(result)
        if reports is not None:
            write_runs_index(reports)
    except OSError as exc:
        error = ReportError(
            redact(f"could not write the record of run {result.run_id} (run.json, index.html): {exc.strerror or exc}")
        )
        error.exit_status = 1  # the run had started: a failed run, not bad input
        raise error from None


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus a short random suffix."""
    return timestamped_id()


def run_report(
    config: Config,
    notebooks: list[str] | None = None,
    parameters: dict[str, str] | None = None,
    run_id: str | None = None,
    log=print,
    *,
    timeout: str | None = None,
    keep: int | None = None,
    ready=None,
) -> RunResult:
    """Run the notebooks into ``reports/<run-id>/``; move ``latest`` if the whole suite succeeded.

    Parameters
    ----------
    config
        The loaded configuration (its root, paths, source, and the file it came from,
        which the notebooks' kernels load too).
    notebooks
        Names to run (see :func:`discover_notebooks`); default all numbered notebooks. A
        subset is a partial run: recorded and listed, never ``latest``.
    parameters
        ``{name: value}`` as strings, typed per notebook by :func:`coerce_parameters`. One
        that only some of the notebooks declare goes to those, and ``log`` says which.
    run_id
        Folder name for the run; default a timestamp. A taken one gets the first free
        suffix (``-2``, ``-3``); an existing run is never overwritten.
    log
        Where progress lines go (credentials masked).
    timeout
        Wall-clock limit per notebook, a duration such as ``20min``; default ``report.timeout``.
    ready
        ``ready(config, parameters)``, called once the parameters are checked and before
        anything is created: it raises if the run cannot work (the CLI passes
        :func:`workbench.workflows.preflight.check_ready`: source, files, data, labels).
    keep
        After a complete run, keep this many runs (newest by start time) and remove the
        older ones, never ``latest``'s; default ``report.keep`` (``None`` there: keep all).

    Returns
    -------
    RunResult
        A complete run: per-notebook status, timing, headline figures and errors. The
        caller decides the exit code from ``ok``, and ``moves_latest`` says whether
        ``reports/latest`` now points at it.

    Raises
    ------
    ParameterError, ReportError
        Before anything runs: bad parameters, unknown notebooks, a bad run id, a ``keep`` below 1.
    BusyError
        Another report run holds the lock; nothing was created.
    RunInterrupted
        SIGINT or SIGTERM: the run is recorded as interrupted, ``latest`` is left alone.
    ReportError
        The run's record could not be written (a full disk); the run stops (exit 1).
    """
    paths = discover_notebooks(config, notebooks)
    raw = dict(parameters or {})
    typed = coerce_parameters(paths, raw)
    check_values(config, raw)
    scope = parameter_scope(typed, raw)
    # The whole suite is every numbered notebook, however it was named: latest moves only for it.
    partial = {path.stem for path in paths} != {path.stem for path in discover_notebooks(config)}
    timeout = timeout or config.report.timeout
    try:
        positive_duration(timeout)  # the config's is checked on load; one given here is checked now, not mid-run
    except ValueError as exc:
        raise ParameterError(f"timeout {timeout!r}: {exc}") from None
    keep = keep if keep is not None else config.report.keep
    if keep is not None and keep < 1:
        raise ParameterError(f"--keep must be at least 1 (the run itself is kept), got {keep}")
    wanted = run_id or new_run_id()
    if not _RUN_ID.match(wanted) or wanted == "latest":
        raise ReportError(redact(f"run id {wanted!r} must be letters, digits, '.', '_' or '-' (and not 'latest')"))
    reports = config.path("reports")
    if ready is not None:
        ready(config, raw)

    def say(line: str) -> None:
        log(redact(line))

    busy = (
        f"another report run holds {os.path.relpath(reports / LOCK_NAME, config.root)}; "
        "nothing was started: try again when it has finished"
    )
    commit = _git_commit(config.root)
    with _signals_interrupt(), try_lock(reports / LOCK_NAME, busy):
        run_id = free_run_id(reports, wanted)  # under the lock, so no other run takes it meanwhile
        folder = reports / run_id
        (folder / "executed").mkdir(parents=True)
        result = RunResult(
            run_id=run_id,
            folder=folder,
            started=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            source=raw.get("source") or config.source.kind,
            commit=commit,
            parameters=_recorded(raw, config.root),
            planned=[path.stem for path in paths],
            config=_relative(str(config.config_file), config.root) if config.config_file else "workbench.yaml",
            partial=partial,
            parameter_scope=scope,
            requested_id=wanted if run_id != wanted else None,
        )
        taken = f" ({wanted} was taken)" if run_id != wanted else ""
        count = f"{len(paths)} notebook{'s' * (len(paths) != 1)}"
        what = f"a partial run of {', '.join(result.planned)}" if partial else f"the whole suite, {count}"
        say(f"run {run_id}{taken}: {what}; reports in {os.path.relpath(folder, config.root)}")
        for name, stems in scope.items():
            say(f"parameter {name} applies only to {', '.join(stems)} (the other notebooks do not declare it)")
        try:
            _record(result, reports)  # planned notebooks and 'running', before the first starts
            env = kernel_env(config)
            for path in paths:
                result.current = path.stem
                _record(result, reports)
                say(f"running {path.name} ...")
                nb_result = run_notebook(path, typed[path], folder, config.path("notebooks"), env, say, timeout)
                result.notebooks.append(nb_result)
                result.current = None
                say(f"  {nb_result.status} in {nb_result.seconds:.1f}s" + (f": {nb_result.error}" if nb_result.error else ""))
                _record(result, reports)  # after each notebook, so a killed run still shows how far it got
            result.state = RunState.COMPLETE
            _record(result, reports)
        except KeyboardInterrupt as exc:
            # RunInterrupted from the handlers, or a bare Ctrl-C where they could not be set.
            signum = exc.signum if isinstance(exc, RunInterrupted) else signal.SIGINT
            result.state, result.reason = RunState.INTERRUPTED, f"interrupted by {signal.Signals(signum).name}"
            with contextlib.suppress(ReportError):  # a full disk must not hide the interruption
                _record(result, reports)
            raise RunInterrupted(signum, result) from None
        except BaseException as exc:
            result.state, result.reason = RunState.FAILED, redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            with contextlib.suppress(Exception):
                _record(result, reports)
            raise
        if result.moves_latest:
            point_latest(reports, run_id)
        if keep is not None:
            _prune(reports, keep, run_id, say)
    return result


def _prune(reports: Path, keep: int, run_id: str, say) -> None:
    """Remove the runs beyond ``keep`` after a complete run, and rewrite the runs index."""
    # Still under the lock: no other run is in progress, so only this one needs sparing.
    removed = prune_runs(reports, keep, {run_id}, say)
    if removed:
        say(f"removed {len(removed)} old run(s) beyond the newest {keep}: {', '.join(removed)}")
        try:
            write_runs_index(reports)
        except OSError as exc:  # the run itself is recorded; a stale list of runs is no failure
            say(f"could not rewrite the runs index: {exc.strerror or exc}")
