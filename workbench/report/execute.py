"""Run one notebook of a report: papermill with a headless kernel, then its executed copy
and its HTML page.

Papermill runs in a worker thread. nbclient installs its own SIGINT and SIGTERM handlers
when it runs in the main thread (they shut the kernel down and let the caller carry on
to the next notebook) and resets them to the defaults afterwards; in a worker thread it
leaves signals alone, so the runner's handlers decide what an interruption does, and
:func:`run_notebook` kills the kernel it started before the exception goes on.

Papermill writes the executed notebook under a temporary name in ``executed/``; the copy
kept is rewritten from it, credentials masked, with :func:`~workbench._util.atomic_write_text`,
so a notebook cut short or a full disk never leaves a half-written file under the real name.
A failed notebook's HTML page shows its name, the failing cell and a one-line error, not
the traceback (which names machine paths and servers): that stays in the executed copy.

A notebook still running after the run's ``report.timeout`` (wall clock, kernel start to
last cell) fails with "timed out after ...": its kernel's process group is killed, as for
an interruption, and the runner goes on with the next notebook. Papermill writes the
executed notebook only when it finishes, so a timed-out one leaves no executed copy.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import nbformat
import pandas as pd
import papermill
from jupyter_client.manager import AsyncKernelManager
from papermill.exceptions import PapermillExecutionError
from traitlets import Any, Dict
from traitlets.config import Config as TraitletsConfig

from workbench._secrets import redact, redact_tree
from workbench._util import atomic_write_text
from workbench.config import CONFIG_ENV, Config
from workbench.contracts import NotebookStatus
from workbench.present.headline import read_headline
from workbench.report.index import failure_page, render_html
from workbench.report.results import NotebookResult

__all__ = ["HeadlessKernelManager", "NotebookTimeout", "kernel_env", "redact_outputs", "run_notebook"]

#: How long an interrupted run waits for papermill to clean up after its kernel is killed.
CLEANUP_SECONDS = 30.0
#: How often (seconds) the main thread wakes up while a notebook runs, to act on signals.
_WAIT_SLICE = 0.2
#: How many of the kernel's last output lines are kept to explain a kernel that died.
_KERNEL_LINES = 20
#: Longest one-line error kept (the HTML and the index are read by people, not debuggers).
_ERROR_CHARS = 300


class NotebookTimeout(Exception):
    """A notebook ran past the run's wall-clock limit (``report.timeout``); its kernel was killed."""


class HeadlessKernelManager(AsyncKernelManager):
    """Starts each kernel with ``extra_env`` on top of this process's environment.

    The environment reaches the kernel through the launch arguments, so a report run
    never changes ``os.environ`` of the process that called it (a notebook server, a test).
    What the kernel process itself prints goes to ``output`` one line at a time (masked),
    and ``on_launch`` learns its process group, so an interrupted run can stop it.
    """

    extra_env = Dict(config=True, help="variables added to the kernel's environment")
    output = Any(None, allow_none=True, config=True, help="called with each line the kernel process prints")
    on_launch = Any(None, allow_none=True, config=True, help="called with the kernel's process group once it runs")

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = {**os.environ, **kw.get("env", {}), **self.extra_env}
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # The kernel echoes onto its own stdout and stderr what a notebook's subprocesses
        # write there (a credential, say), and logs its own troubles there. Read from a pipe,
        # none of it reaches the console unasked, and never the command's stdout, which
        # scripts read for the index path.
        kw.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        await super()._async_launch_kernel(kernel_cmd, **kw)
        provisioner = self.provisioner
        threading.Thread(target=_forward, args=(provisioner.process.stdout, self.output), daemon=True).start()
        if self.on_launch is not None:
            self.on_launch(getattr(provisioner, "pgid", None) or provisioner.pid)


def _forward(stream, output: Callable[[str], None] | None) -> None:
    # Drained even with nowhere to send it: a full pipe would block the kernel.
    with stream:
        for raw in iter(stream.readline, b""):
            if output is not None:
                output(redact(raw.decode(errors="replace").rstrip()))


def kernel_env(config: Config) -> dict[str, str]:
    """Environment for kernels: the run's root and config, caches under the project, this Python first on PATH.

    ``WORKBENCH_CONFIG`` is the file the run loaded, so a notebook whose ``config_path``
    is empty (the default) loads the same file, however the run chose it. Pointing the
    config dirs at a project cache keeps a scheduled run independent of whoever's HOME it
    runs under.
    """
    cache = config.root / ".cache"
    env = {
        "WORKBENCH_ROOT": str(config.root),
        "MPLCONFIGDIR": str(cache / "matplotlib"),
        "IPYTHONDIR": str(cache / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # Notebooks with interactive parts (the labeller) render a static summary instead.
        "WORKBENCH_HEADLESS": "1",
    }
    if config.config_file is not None:
        env[CONFIG_ENV] = str(config.config_file)
    for key in ("MPLCONFIGDIR", "IPYTHONDIR"):
        if os.environ.get(key):
            env[key] = os.environ[key]
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def _one_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    line = redact(lines[0].strip() if lines else "")
    return line if len(line) <= _ERROR_CHARS else line[: _ERROR_CHARS - 1] + "…"


def error_text(exc: BaseException) -> str:
    """One line for a failed notebook: the cell number and the error, credentials masked."""
    if isinstance(exc, PapermillExecutionError):
        return _one_line(f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}")
    if isinstance(exc, NotebookTimeout):
        return _one_line(str(exc))
    if isinstance(exc, OSError) and exc.strerror:
        return _one_line(f"{type(exc).__name__}: {exc.strerror}")  # the cause; the file is a temporary one
    return _one_line(f"{type(exc).__name__}: {exc}")


def _write_error(path: Path, folder: Path, exc: OSError) -> str:
    return _one_line(f"could not write {path.relative_to(folder)}: {exc.strerror or exc}")


def redact_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Mask credentials in every text output and traceback of ``nb`` (in place; also returned).

    Images are left alone; code is not touched (parameters that look like secrets are
    refused before a run, see :mod:`workbench.report.params`).
    """
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = redact(out.get("text", ""))
            elif out.get("output_type") == "error":
                out["evalue"] = redact(out.get("evalue", ""))
                out["traceback"] = [redact(line) for line in out.get("traceback", [])]
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    out["data"][mime] = redact_tree(value)
    return nb


class _Kernels:
    """The process groups of the kernels one notebook started, to kill if the run is interrupted."""

    def __init__(self) -> None:
        self.groups: list[int] = []
        self.stopping = threading.Event()
        # A plain function, not a bound method: traitlets deep-copies config values, and
        # copies a function as itself but a method with a copy of its object.
        self.launched = lambda group: self._launched(group)

    def _launched(self, group: int) -> None:
        self.groups.append(group)
        if self.stopping.is_set():  # launched while the run was being stopped
            self._kill([group])

    def kill(self) -> None:
        self.stopping.set()  # before reading the list, so a kernel launched now is seen by one side
        self._kill(list(self.groups))

    @staticmethod
    def _kill(groups: list[int]) -> None:
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # already gone


def _execute(
    path: Path, partial: Path, parameters: dict, cwd: Path, config: TraitletsConfig, kernels: _Kernels, timeout: str | None = None
) -> Exception | None:
    """Run papermill in a worker thread; return its exception, if any (see the module notes).

    Past ``timeout`` (a duration such as ``20min``) the kernel is killed and a
    :class:`NotebookTimeout` returned, whatever papermill said about the dead kernel.
    """
    outcome: list[Exception] = []
    done = threading.Event()

    def work() -> None:
        try:
            papermill.execute_notebook(
                str(path),
                str(partial),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(cwd),
                request_save_on_cell_execute=False,
                config=config,
            )
        except Exception as exc:  # noqa: BLE001 - any failure is reported with the notebook's name
            outcome.append(exc)
        finally:
            done.set()

    # A wall clock for the whole notebook, not papermill's per-cell execution_timeout: ten
    # cells of nineteen minutes each hang a nightly run as surely as one endless cell.
    deadline = time.monotonic() + pd.Timedelta(timeout).total_seconds() if timeout else None
    threading.Thread(target=work, name=f"papermill {path.name}", daemon=True).start()
    try:
        # Waiting in short slices: a signal the OS hands to another thread runs its Python
        # handler only when the main thread next runs bytecode. (An Event, not Thread.join:
        # a join cut short by an exception marks the thread as finished while it still runs.)
        while not done.wait(_WAIT_SLICE):
            if deadline is not None and time.monotonic() >= deadline:
                _stop(kernels, done)
                return NotebookTimeout(f"timed out after {timeout} (report.timeout); the kernel was killed")
    except BaseException:
        _stop(kernels, done)
        raise
    return outcome[0] if outcome else None


def _stop(kernels: _Kernels, done: threading.Event) -> None:
    """Kill the notebook's kernels and give papermill a bounded time to clean up after them."""
    # With its kernel dead papermill stops, and nbclient removes the kernel's connection
    # file and sockets on its way out. That death is ours, not news: its log is dropped.
    quiet = logging.getLogger("papermill")
    quiet.addFilter(_drop)
    try:
        kernels.kill()
        done.wait(CLEANUP_SECONDS)
    finally:
        quiet.removeFilter(_drop)


def _drop(record: logging.LogRecord) -> bool:
    return False


def run_notebook(
    path: Path,
    parameters: dict,
    folder: Path,
    cwd: Path,
    env: dict[str, str],
    log: Callable[[str], None],
    timeout: str | None = None,
) -> NotebookResult:
    """Run ``path`` into ``folder``: ``executed/<name>.ipynb`` and ``<stem>.html``.

    A notebook's own failure, one still running after ``timeout`` (a duration such as
    ``20min``; its kernel is killed), or an ``OSError`` writing its outputs (a full disk),
    is the notebook's failure in the result, with a one-line error. SIGINT and SIGTERM (as
    the exceptions the runner's handlers raise) stop the kernel and go on, leaving no
    temporary file behind.
    """
    executed = folder / "executed" / path.name
    # Papermill warns about an output name not ending in .ipynb, so the temporary name keeps it.
    partial = executed.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial.ipynb")
    kernels = _Kernels()
    # What the kernel process printed itself (its logs, and echoes of what the notebook's
    # subprocesses wrote, which the notebook holds too): kept only to explain a dead kernel.
    said: deque[str] = deque(maxlen=_KERNEL_LINES)
    started = time.perf_counter()
    try:
        # Kernels talk over Unix sockets in a private temporary folder rather than
        # unencrypted TCP ports; /tmp keeps the socket paths under the OS length limit.
        with tempfile.TemporaryDirectory(prefix="wb-kernel-") as sockets:
            kernel_config = TraitletsConfig()
            kernel_config.KernelManager.transport = "ipc"
            kernel_config.KernelManager.ip = str(Path(sockets) / "kernel")
            kernel_config.NotebookClient.kernel_manager_class = HeadlessKernelManager
            kernel_config.HeadlessKernelManager.extra_env = env
            kernel_config.HeadlessKernelManager.output = said.append
            kernel_config.HeadlessKernelManager.on_launch = kernels.launched
            failure = _execute(path, partial, parameters, cwd, kernel_config, kernels, timeout)
        result = NotebookResult(path.stem, NotebookStatus.OK, round(time.perf_counter() - started, 2))
        errors = [error_text(failure)] if failure else []
        if failure is not None and not isinstance(failure, (PapermillExecutionError, NotebookTimeout)):
            # Not a cell's error (the kernel did not start, or died): what it last said may tell why.
            for line in said:
                log(f"  kernel: {line}")
        nb = _read(partial)
        source = nb if nb is not None else _read(path)
        result.title = notebook_title(source) if source is not None else None
        if nb is not None:
            redact_outputs(nb)
            result.headline = read_headline(nb)
            try:
                atomic_write_text(executed, nbformat.writes(nb))
                result.executed = str(executed.relative_to(folder))
            except OSError as exc:
                errors.append(_write_error(executed, folder, exc))
        elif not errors:
            errors.append("the executed notebook could not be read back")
        html_path = folder / f"{path.stem}.html"
        try:
            page = render_html(nb, path.stem) if nb is not None and not errors else failure_page(path.stem, "; ".join(errors), result.executed)
            atomic_write_text(html_path, page)
            result.html = html_path.name
        except OSError as exc:
            errors.append(_write_error(html_path, folder, exc))
        if errors:
            result.status, result.error = NotebookStatus.FAILED, "; ".join(errors)
        return result
    finally:
        partial.unlink(missing_ok=True)


def notebook_title(nb: nbformat.NotebookNode) -> str | None:
    """The first ``# `` heading of the notebook's markdown: the report's title."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def _read(path: Path) -> nbformat.NotebookNode | None:
    """The notebook papermill wrote, or ``None`` if there is none or it is cut short."""
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):  # missing, or not JSON (nbformat's NotJSONError is a ValueError)
        return None
