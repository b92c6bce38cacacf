"""Run the numbered notebooks with papermill, render HTML without code, write the run index.

A run lands in ``reports/<run-id>/``: one ``.html`` per notebook (no code
cells), the executed notebooks under ``executed/``, ``run.json`` and
``index.html``. ``reports/latest`` points at the newest run in which every
notebook succeeded; a failed run never moves it.

Parameters are checked before anything runs: a name no selected notebook
declares, or a value that does not parse as the declared type, is a
:class:`ParameterError`. Names that look like secrets are refused outright,
because papermill writes parameters into the executed notebook.

Headline figures travel from a notebook to the index through
:func:`workbench.headline.show_headline`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import yaml
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError
from traitlets.config import Config as TraitletsConfig

from workbench.config import Config, ConfigError, parse_window
from workbench.frames import DataError
from workbench.headline import read_headline

__all__ = [
    "NotebookResult",
    "ParameterError",
    "RunResult",
    "ReportError",
    "check_values",
    "coerce_parameters",
    "discover_notebooks",
    "notebook_parameters",
    "run_report",
]

_SECRET_NAME = re.compile(r"(?i)(token|password|passwd|secret|api_?key|credential|routing_key)")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class ParameterError(ValueError):
    """A notebook parameter that is unknown, mistyped or not allowed; raised before any run."""


class ReportError(RuntimeError):
    """A report run that cannot start, or that finished with a failed notebook."""


@dataclass
class NotebookResult:
    name: str
    status: str  # "ok" or "failed"
    seconds: float
    html: str | None = None  # file name inside the run folder
    executed: str | None = None
    error: str | None = None
    headline: dict | None = None


@dataclass
class RunResult:
    run_id: str
    folder: Path
    started: str
    source: str
    commit: str
    parameters: dict
    notebooks: list[NotebookResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.notebooks) and all(nb.status == "ok" for nb in self.notebooks)

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


# --- notebooks and their parameters ---------------------------------------------------------


def discover_notebooks(config: Config, names: list[str] | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) in order, or those named.

    A name may be the file name, its stem (``01_explore``) or its number (``01``).
    """
    folder = config.path("notebooks")
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        if not found:
            raise ReportError(f"no numbered notebooks in {folder}")
        return found
    chosen = []
    for name in names:
        stem = Path(name).stem
        match = [p for p in found if p.stem == stem or p.stem.split("_", 1)[0] == stem]
        if len(match) != 1:
            choices = ", ".join(p.stem for p in found)
            raise ReportError(f"no single notebook matches {name!r}; choose from: {choices}")
        chosen.append(match[0])
    return chosen


def notebook_parameters(path: Path) -> dict[str, dict]:
    """The parameters a notebook declares: ``{name: {"type", "default", "help"}}``."""
    raw = papermill.inspect_notebook(str(path))
    return {
        name: {"type": spec.get("inferred_type_name") or "None", "default": spec.get("default"), "help": spec.get("help", "")}
        for name, spec in raw.items()
    }


def _coerce(name: str, value: str, type_name: str):
    type_name = type_name.replace(" ", "")
    if type_name in ("str", "None"):
        return value
    try:
        if type_name == "int":
            return int(value)
        if type_name == "float":
            return float(value)
        if type_name == "bool":
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(value)
        if type_name.startswith(("list", "dict")):
            parsed = yaml.safe_load(value)
            expected = list if type_name.startswith("list") else dict
            if not isinstance(parsed, expected):
                raise ValueError(value)
            return parsed
    except (ValueError, yaml.YAMLError):
        raise ParameterError(f"parameter {name}={value!r} is not a valid {type_name}") from None
    return value


def coerce_parameters(notebooks: list[Path], raw: dict[str, str]) -> dict[Path, dict]:
    """Check ``raw`` (strings from the command line) against what each notebook declares.

    Returns the typed parameters for each notebook: a name goes only to the
    notebooks that declare it.

    Raises
    ------
    ParameterError
        A name that looks like a secret, a name no notebook declares, or a value
        that does not parse as the declared type.
    """
    for name in raw:
        if _SECRET_NAME.search(name):
            raise ParameterError(
                f"parameter {name!r} looks like a secret; papermill writes parameters into the executed "
                "notebook, so secrets must come from the environment (see README, Configuration)"
            )
    declared = {path: notebook_parameters(path) for path in notebooks}
    known = {name for params in declared.values() for name in params}
    unknown = sorted(set(raw) - known)
    if unknown:
        listing = ", ".join(sorted(known)) or "none"
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}; the selected notebooks take: {listing}")
    return {
        path: {name: _coerce(name, value, params[name]["type"]) for name, value in raw.items() if name in params}
        for path, params in declared.items()
    }


def check_values(config: Config, raw: dict[str, str]) -> None:
    """Check the values of the shared parameters the configuration can judge.

    ``service``, ``source``, ``window``, ``start`` and ``end`` mean the same in
    every notebook, so a wrong one fails here, not minutes into a run.
    """
    from workbench.sources import registry, time_range

    try:
        if raw.get("service"):
            config.check_service(raw["service"])
        if raw.get("source"):
            registry.create(raw["source"], config)
        if raw.get("window"):
            parse_window(raw["window"])
        time_range(raw.get("start"), raw.get("end"))
    except (ConfigError, DataError, ValueError) as exc:
        raise ParameterError(str(exc)) from None


# --- running -----------------------------------------------------------------------------------


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


def _render_html(nb: nbformat.NotebookNode, title: str) -> str:
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    nb.metadata.setdefault("title", title)
    body, _ = exporter.from_notebook_node(nb)
    return body


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, PapermillExecutionError):
        return f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    return f"{type(exc).__name__}: {exc}"


def _run_one(path: Path, parameters: dict, folder: Path, cwd: Path) -> NotebookResult:
    executed = folder / "executed" / path.name
    started = time.perf_counter()
    error = None
    # Kernels talk over Unix sockets in a private temporary folder rather than
    # unencrypted TCP ports; /tmp keeps the socket paths under the OS length limit.
    with tempfile.TemporaryDirectory(prefix="wb-kernel-") as sockets:
        kernel_config = TraitletsConfig()
        kernel_config.KernelManager.transport = "ipc"
        kernel_config.KernelManager.ip = str(Path(sockets) / "kernel")
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
    result = NotebookResult(path.stem, "failed" if error else "ok", seconds, error=error)
    if executed.is_file():
        result.executed = str(executed.relative_to(folder))
        nb = nbformat.read(executed, as_version=4)
        result.headline = read_headline(nb)
        html_path = folder / f"{path.stem}.html"
        html_path.write_text(_render_html(nb, path.stem))
        result.html = html_path.name
    return result


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus a short random suffix."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


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
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        for path in paths:
            log(f"running {path.name} ...")
            nb_result = _run_one(path, typed[path], folder, config.path("notebooks"))
            result.notebooks.append(nb_result)
            log(f"  {nb_result.status} in {nb_result.seconds:.1f}s" + (f": {nb_result.error}" if nb_result.error else ""))
            _write_run(result)  # after each notebook, so an interrupted run still shows its state
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if result.ok:
        _point_latest(reports, run_id)
    _write_runs_index(reports)
    return result


def _point_latest(reports: Path, run_id: str) -> None:
    # A symlink swapped in with one rename: readers never see a missing or half-made 'latest'.
    tmp = reports / f".latest-{secrets.token_hex(4)}"
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, reports / "latest")


# --- the index pages -------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} .meta{color:#666;font-size:.9rem;margin-bottom:1.5rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem} th,td{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left;font-size:.9rem}
.ok{color:#1a7f37;font-weight:600} .failed{color:#cf222e;font-weight:600} .error{color:#cf222e;font-family:monospace;font-size:.85rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin-bottom:1rem}
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _write_run(result: RunResult) -> None:
    data = asdict(result)
    data["folder"] = str(result.folder)
    data["ok"] = result.ok
    (result.folder / "run.json").write_text(json.dumps(data, indent=2, default=str))
    cards = []
    for nb in result.notebooks:
        link = f"<a href='{html.escape(nb.html)}'>{html.escape(nb.name)}</a>" if nb.html else html.escape(nb.name)
        status = f"<span class='{nb.status}'>{nb.status}</span> in {nb.seconds:.1f}s"
        detail = ""
        if nb.error:
            detail += f"<p class='error'>{html.escape(nb.error)}</p>"
        if nb.headline:
            detail += pd.DataFrame([nb.headline]).to_html(index=False, border=0, na_rep="–", escape=True)
        cards.append(f"<div class='card'><h2>{link}</h2><p>{status}</p>{detail}</div>")
    overall = "all reports succeeded" if result.ok else "some reports failed"
    params = ", ".join(f"{k}={v}" for k, v in result.parameters.items()) or "defaults"
    meta = (
        f"<div class='meta'>run {html.escape(result.run_id)} · started {html.escape(result.started)} · "
        f"source <b>{html.escape(result.source)}</b> · commit {html.escape(result.commit)} · "
        f"parameters: {html.escape(params)} · <span class='{'ok' if result.ok else 'failed'}'>{overall}</span></div>"
    )
    body = f"<h1>aiops-workbench report</h1>{meta}{''.join(cards)}<p><a href='../index.html'>all runs</a></p>"
    (result.folder / "index.html").write_text(_page(f"report {result.run_id}", body))


def _write_runs_index(reports: Path) -> None:
    rows = []
    for run_file in sorted(reports.glob("*/run.json"), reverse=True):
        if run_file.parent.is_symlink():
            continue
        try:
            run = json.loads(run_file.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        status = "ok" if run.get("ok") else "failed"
        names = ", ".join(nb["name"] for nb in run.get("notebooks", []))
        rows.append(
            f"<tr><td><a href='{html.escape(run['run_id'])}/index.html'>{html.escape(run['run_id'])}</a></td>"
            f"<td>{html.escape(run.get('started', ''))}</td><td>{html.escape(run.get('source', ''))}</td>"
            f"<td class='{status}'>{status}</td><td>{html.escape(names)}</td></tr>"
        )
    table = "<table><tr><th>run</th><th>started</th><th>source</th><th>status</th><th>notebooks</th></tr>" + "".join(rows) + "</table>"
    body = "<h1>aiops-workbench runs</h1><p class='meta'><a href='latest/index.html'>latest good run</a></p>" + table
    (reports / "index.html").write_text(_page("aiops-workbench runs", body))
