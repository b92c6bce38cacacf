"""Run the numbered notebooks with papermill, render HTML without code, write the run index.

A run lands in ``reports/<run-id>/``: one ``.html`` per notebook (no code
cells), the executed notebooks under ``executed/``, ``run.json`` and
``index.html``. ``reports/latest`` points at the newest run in which every
notebook succeeded; a failed run never moves it.

Parameters are checked before anything runs: a name no selected notebook
declares, or a value that does not parse as the declared type, is a
:class:`~workbench.errors.ParameterError`. Names that look like secrets are refused outright,
because papermill writes parameters into the executed notebook.

Headline figures travel from a notebook to the index through
:func:`workbench.present.headline.show_headline`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from papermill.exceptions import PapermillExecutionError
from traitlets import Dict
from traitlets.config import Config as TraitletsConfig

from workbench._util import timestamped_id
from workbench.config import Config
from workbench.contracts import NotebookStatus
from workbench.errors import ReportError
from workbench.present.headline import read_headline
from workbench.report.index import render_html, write_run, write_runs_index
from workbench.report.params import check_values, coerce_parameters, discover_notebooks
from workbench.report.results import NotebookResult, RunResult

__all__ = ["new_run_id", "run_report"]

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class HeadlessKernelManager(AsyncKernelManager):
    """Starts each kernel with ``extra_env`` on top of this process's environment.

    The environment reaches the kernel through the launch arguments, so a report run
    never changes ``os.environ`` of the process that called it (a notebook server, a test).
    """

    extra_env = Dict(config=True, help="variables added to the kernel's environment")

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = {**os.environ, **kw.get("env", {}), **self.extra_env}
        return await super()._async_pre_start_kernel(**kw)


def _git_commit(root: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=10"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _headless_env(config: Config) -> dict[str, str]:
    """Environment for kernels: caches under the project, this Python first on PATH.

    Kernels inherit it; pointing the config dirs at a project cache keeps a
    scheduled run independent of whoever's HOME it runs under.
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
    for key in ("MPLCONFIGDIR", "IPYTHONDIR"):
        if os.environ.get(key):
            env[key] = os.environ[key]
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, PapermillExecutionError):
        return f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    return f"{type(exc).__name__}: {exc}"


def _run_one(path: Path, parameters: dict, folder: Path, cwd: Path, env: dict[str, str]) -> NotebookResult:
    executed = folder / "executed" / path.name
    started = time.perf_counter()
    error = None
    # Kernels talk over Unix sockets in a private temporary folder rather than
    # unencrypted TCP ports; /tmp keeps the socket paths under the OS length limit.
    with tempfile.TemporaryDirectory(prefix="wb-kernel-") as sockets:
        kernel_config = TraitletsConfig()
        kernel_config.KernelManager.transport = "ipc"
        kernel_config.KernelManager.ip = str(Path(sockets) / "kernel")
        kernel_config.NotebookClient.kernel_manager_class = HeadlessKernelManager
        kernel_config.HeadlessKernelManager.extra_env = env
        try:
            papermill.execute_notebook(
                str(path),
                str(executed),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(cwd),
                request_save_on_cell_execute=False,
                config=kernel_config,
            )
        except Exception as exc:  # noqa: BLE001 - any failure is reported with the notebook's name
            error = _error_text(exc)
    seconds = round(time.perf_counter() - started, 2)
    result = NotebookResult(path.stem, NotebookStatus.FAILED if error else NotebookStatus.OK, seconds, error=error)
    if executed.is_file():
        result.executed = str(executed.relative_to(folder))
        nb = nbformat.read(executed, as_version=4)
        result.headline = read_headline(nb)
        html_path = folder / f"{path.stem}.html"
        html_path.write_text(render_html(nb, path.stem))
        result.html = html_path.name
    return result


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
        The loaded configuration (its root, paths and source).
    notebooks
        Names to run (see :func:`discover_notebooks`); default all numbered notebooks.
    parameters
        ``{name: value}`` as strings, typed per notebook by :func:`coerce_parameters`.
    run_id
        Folder name for the run; default a timestamp. An existing run is never overwritten.
    log
        Where progress lines go.

    Returns
    -------
    RunResult
        Per-notebook status, timing, headline figures and errors. The caller decides
        the exit code from ``ok``.

    Raises
    ------
    ParameterError, ReportError
        Before anything runs: bad parameters, unknown notebooks, a bad or taken run id.
    """
    paths = discover_notebooks(config, notebooks)
    typed = coerce_parameters(paths, dict(parameters or {}))
    check_values(config, dict(parameters or {}))
    run_id = run_id or new_run_id()
    if not _RUN_ID.match(run_id) or run_id == "latest":
        raise ReportError(f"run id {run_id!r} must be letters, digits, '.', '_' or '-' (and not 'latest')")
    reports = config.path("reports")
    folder = reports / run_id
    if folder.exists():
        raise ReportError(f"run {run_id!r} already exists in {reports}; runs are never overwritten")
    (folder / "executed").mkdir(parents=True)
    source = (parameters or {}).get("source") or config.source.kind
    result = RunResult(
        run_id=run_id,
        folder=folder,
        started=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        source=source,
        commit=_git_commit(config.root),
        parameters=dict(parameters or {}),
    )
    env = _headless_env(config)
    for path in paths:
        log(f"running {path.name} ...")
        nb_result = _run_one(path, typed[path], folder, config.path("notebooks"), env)
        result.notebooks.append(nb_result)
        log(f"  {nb_result.status} in {nb_result.seconds:.1f}s" + (f": {nb_result.error}" if nb_result.error else ""))
        write_run(result)  # after each notebook, so an interrupted run still shows its state
    if result.ok:
        _point_latest(reports, run_id)
    write_runs_index(reports)
    return result


def _point_latest(reports: Path, run_id: str) -> None:
    # A symlink swapped in with one rename: readers never see a missing or half-made 'latest'.
    tmp = reports / f".latest-{secrets.token_hex(4)}"
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, reports / "latest")
