"""Run the numbered notebooks with papermill, render HTML without code, write the run index.

A run lands in ``reports/<run-id>/``: one ``.html`` per notebook (no code
cells), the executed notebooks under ``executed/``, ``run.json`` and
``index.html``. ``reports/latest`` points at the newest run in which every
notebook succeeded; a failed, interrupted or killed run never moves it.

Parameters are checked before anything runs: a name no selected notebook
declares, or a value that does not parse as the declared type, is a
:class:`~workbench.errors.ParameterError`. Names that look like secrets are refused outright,
because papermill writes parameters into the executed notebook.

One run at a time: a run holds ``reports/.report.lock`` from before it creates its folder
until its record is final, and a second run refuses at once (:class:`~workbench.errors.BusyError`).
The record says how far the run got (:class:`~workbench.report.results.RunState`) from the
start, so a run killed outright is left saying ``running`` with its unfinished notebooks
listed. SIGINT and SIGTERM stop the kernel, record the run as interrupted and raise
:class:`RunInterrupted`.

Headline figures travel from a notebook to the index through
:func:`workbench.present.headline.show_headline`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import secrets
import signal
import subprocess
import threading
from pathlib import Path

from workbench._secrets import redact
from workbench._util import timestamped_id, try_lock
from workbench.config import Config
from workbench.errors import ReportError
from workbench.report.execute import kernel_env, run_notebook
from workbench.report.index import write_run, write_runs_index
from workbench.report.params import check_values, coerce_parameters, discover_notebooks
from workbench.report.results import RunResult, RunState

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
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=10"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


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
) -> RunResult:
    """Run the notebooks into ``reports/<run-id>/`` and move ``latest`` if all succeeded.

    Parameters
    ----------
    config
        The loaded configuration (its root, paths, source, and the file it came from,
        which the notebooks' kernels load too).
    notebooks
        Names to run (see :func:`discover_notebooks`); default all numbered notebooks.
    parameters
        ``{name: value}`` as strings, typed per notebook by :func:`coerce_parameters`.
    run_id
        Folder name for the run; default a timestamp. An existing run is never overwritten.
    log
        Where progress lines go (credentials masked).

    Returns
    -------
    RunResult
        A complete run: per-notebook status, timing, headline figures and errors. The
        caller decides the exit code from ``ok``.

    Raises
    ------
    ParameterError, ReportError
        Before anything runs: bad parameters, unknown notebooks, a bad or taken run id.
    BusyError
        Another report run holds the lock; nothing was created.
    RunInterrupted
        SIGINT or SIGTERM: the run is recorded as interrupted, ``latest`` is left alone.
    ReportError
        The run's record could not be written (a full disk); the run stops (exit 1).
    """
    paths = discover_notebooks(config, notebooks)
    typed = coerce_parameters(paths, dict(parameters or {}))
    check_values(config, dict(parameters or {}))
    run_id = run_id or new_run_id()
    if not _RUN_ID.match(run_id) or run_id == "latest":
        raise ReportError(redact(f"run id {run_id!r} must be letters, digits, '.', '_' or '-' (and not 'latest')"))
    reports = config.path("reports")

    def say(line: str) -> None:
        log(redact(line))

    busy = (
        f"another report run holds {os.path.relpath(reports / LOCK_NAME, config.root)}; "
        "nothing was started: try again when it has finished"
    )
    commit = _git_commit(config.root)
    with _signals_interrupt(), try_lock(reports / LOCK_NAME, busy):
        folder = reports / run_id
        if folder.exists():
            raise ReportError(f"run {run_id!r} already exists in {reports}; runs are never overwritten")
        (folder / "executed").mkdir(parents=True)
        result = RunResult(
            run_id=run_id,
            folder=folder,
            started=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            source=(parameters or {}).get("source") or config.source.kind,
            commit=commit,
            parameters=_recorded(dict(parameters or {}), config.root),
            planned=[path.stem for path in paths],
            config=_relative(str(config.config_file), config.root) if config.config_file else "workbench.yaml",
        )
        try:
            _record(result, reports)  # planned notebooks and 'running', before the first starts
            env = kernel_env(config)
            for path in paths:
                result.current = path.stem
                _record(result, reports)
                say(f"running {path.name} ...")
                nb_result = run_notebook(path, typed[path], folder, config.path("notebooks"), env, say)
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
        if result.ok:
            _point_latest(reports, run_id)
    return result


def _point_latest(reports: Path, run_id: str) -> None:
    # A symlink swapped in with one rename: readers never see a missing or half-made 'latest'.
    tmp = reports / f".latest-{secrets.token_hex(4)}"
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, reports / "latest")
