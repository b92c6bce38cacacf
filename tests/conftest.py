"""Shared fixtures: a small sample project in a temporary folder, built once per session.

Tests never touch the project. Every pytest process (the xdist controller and each worker)
points ``WORKBENCH_ROOT`` and ``WORKBENCH_CONFIG`` at its own temporary copy of the project
before any test runs, so the kernels nbval starts for notebooks/*.ipynb load that copy and
write their sample cache and models there. The controller hashes the project's data/,
models/ and reports/ and notes ``git status`` at the start, and fails the run, naming each
path, if any of them changed by the end.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workbench.config import CONFIG_ENV, ROOT_ENV, load_config
from workbench.contracts import CANONICAL_METRICS, INCIDENT_COLUMNS, validate_long
from workbench.errors import WorkbenchError
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events
from workbench.labels.labeller import Labeller
from workbench.labels.log import IncidentLog
from workbench.sources import load_service
from workbench.sources.sample import ensure_sample, generate, sample_path
from workbench.testing.postgres import LocalPostgres, postgres_bin
from workbench.testing.prometheus import LocalPrometheus, write_openmetrics
from workbench.workflows.sample import write_sample_labels

REPO = Path(__file__).resolve().parents[1]
FIXTURE_NOTEBOOKS = Path(__file__).parent / "notebooks"


def make_project(folder: Path, days: int = 14, notebooks: Path | None = None, labels: bool = True, **overrides) -> Path:
    """A project folder with a workbench.yaml like the repository's but ``days`` long.

    With ``labels`` the sample's incident log and events calendar are written into it
    (explicitly: loading the sample never writes label files).
    """
    settings = yaml.safe_load(sample_config_file().read_text())
    settings["source"]["sample"]["days"] = days
    settings.update(overrides)
    if "services" in overrides and "capacity" not in overrides:
        # Capacity may only name configured services; keep those that remain.
        sized = settings["capacity"]["services"]
        settings["capacity"]["services"] = {k: v for k, v in sized.items() if k in overrides["services"]}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "workbench.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    shutil.copytree(notebooks or REPO / "notebooks", folder / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    if labels:
        write_sample_labels(load_config(folder / "workbench.yaml"))
    return folder / "workbench.yaml"


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory) -> Path:
    """A 14-day sample project with generated data and the repository's notebooks."""
    config_path = make_project(tmp_path_factory.mktemp("project") / "wb")
    ensure_sample(load_config(config_path))
    return config_path


@pytest.fixture(scope="session")
def sample_config(sample_project):
    return load_config(sample_project)


@pytest.fixture(scope="session")
def full_sample():
    """The full default sample (60 days, six services), generated once."""
    config = load_config(sample_config_file())
    return generate(config.source.sample, list(config.services))


@pytest.fixture(autouse=True)
def _no_root_override(monkeypatch):
    # Tests name their project explicitly: neither a WORKBENCH_ROOT left in the developer's
    # shell nor the scratch copy meant for nbval's kernels may steer them.
    monkeypatch.delenv("WORKBENCH_ROOT", raising=False)
    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)


# -- the project stays as it was ---------------------------------------------------------
#: Where the project keeps what it generates; git ignores most of it, so ``git status`` alone
#: would not see a model or a report written by a test.
WATCHED = ("data", "models", "reports")
_session: dict = {}


def sample_config_file() -> Path:
    """The project's sample configuration: ``workbench.yaml``, or the copy ``workbench init``
    keeps of it once ``workbench.yaml`` describes the team's own data."""
    kept = REPO / "workbench.sample.yaml"
    return kept if kept.is_file() else REPO / "workbench.yaml"


def scratch_project(folder: Path) -> Path:
    """A copy of the project in ``folder`` for notebooks to run on: the sample configuration as
    ``workbench.yaml``, the label files and, when the project has it, its cached sample (a copy,
    so nothing done to it reaches the project), which spares every process generating 60 days."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    shutil.copy2(sample_config_file(), folder / "workbench.yaml")
    try:
        sample = load_config(sample_config_file())
    except WorkbenchError:
        return folder  # a broken workbench.yaml: the notebooks will say what is wrong with it
    for labels in (sample.path("incidents"), sample.path("events")):
        if labels.is_file() and labels.is_relative_to(REPO):
            target = folder / labels.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(labels, target)
    cached = sample_path(sample)
    if cached.is_file() and cached.is_relative_to(REPO):
        target = folder / cached.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cached, target)
    return folder


def project_state(root: Path) -> dict[str, str]:
    """What the test suite must leave as it is in ``root``.

    Every entry under data/, models/ and reports/ (a file by the SHA-256 of its content, a link
    by its target, a folder by being there) and, where git can tell, each line of
    ``git status --porcelain``.
    """
    state = {}
    for name in WATCHED:
        for folder, dirs, files in os.walk(root / name):
            for entry in dirs + files:
                path = Path(folder, entry)
                key = path.relative_to(root).as_posix()
                try:
                    if path.is_symlink():
                        state[key] = f"link to {os.readlink(path)}"
                    elif path.is_dir():
                        state[f"{key}/"] = "folder"
                    else:
                        with path.open("rb") as fh:
                            state[key] = hashlib.file_digest(fh, "sha256").hexdigest()
                except FileNotFoundError:
                    continue  # gone while walking: the next look shows it missing
    try:
        # No optional locks: looking must not rewrite the index under a concurrent git command.
        git = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"],
            cwd=root, capture_output=True, text=True, timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return state
    if git.returncode == 0:
        state.update({f"git status: {line}": "listed" for line in git.stdout.splitlines()})
    return state


def describe_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per entry of :func:`project_state` that differs, sorted: new, removed or changed."""
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            lines.append(f"new: {key}")
        elif key not in after:
            lines.append(f"removed: {key}")
        elif before[key] != after[key]:
            lines.append(f"changed: {key}")
    return lines


def pytest_configure(config):
    # Runs in the controller and in every worker, before any kernel starts: each process gets
    # its own copy, since notebooks running side by side would otherwise share models/.
    if not hasattr(config, "workerinput"):
        _session["before"] = project_state(REPO)
    root = scratch_project(Path(tempfile.mkdtemp(prefix="workbench-tests-")))
    _session["root"] = root
    _session["saved"] = {key: os.environ.get(key) for key in (ROOT_ENV, CONFIG_ENV)}
    _session["env"] = {ROOT_ENV: str(root), CONFIG_ENV: str(root / "workbench.yaml")}
    os.environ.update(_session["env"])


def pytest_sessionfinish(session):
    # In the controller, after every worker has finished.
    if "before" not in _session:
        return
    changed = describe_changes(_session["before"], project_state(REPO))
    if not changed:
        return
    _session["changed"] = changed
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        # Counted in the closing line ("..., 2 changed in the project in 300.00s"), in colour.
        reporter.stats.setdefault("changed in the project", []).extend(changed)


def pytest_terminal_summary(terminalreporter):
    changed = _session.get("changed")
    if not changed:
        return
    terminalreporter.section("FAILED: the test suite changed the project", sep="!", red=True, bold=True)
    terminalreporter.write_line(f"Tests must work on temporary copies; these changed under {REPO} during the run:", red=True)
    for line in changed[:50]:
        terminalreporter.write_line(f"  {line}", red=True)
    if len(changed) > 50:
        terminalreporter.write_line(f"  ... and {len(changed) - 50} more", red=True)


def pytest_unconfigure(config):
    root = _session.pop("root", None)
    if root is None:
        return
    for key, value in _session.pop("saved").items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def notebook_env() -> dict[str, str]:
    """``WORKBENCH_ROOT`` and ``WORKBENCH_CONFIG`` as nbval's kernels inherit them (each test
    runs without them: see ``_no_root_override``)."""
    return dict(_session["env"])


# -- real servers --------------------------------------------------------------------
REQUIRE_SERVERS = os.environ.get("WORKBENCH_REQUIRE_SERVERS") == "1"


def need(available: bool, reason: str) -> None:
    """Skip with ``reason`` when a server binary is missing; under WORKBENCH_REQUIRE_SERVERS=1 fail."""
    if available:
        return
    if REQUIRE_SERVERS:
        pytest.fail(f"{reason} (WORKBENCH_REQUIRE_SERVERS=1 makes this a failure)")
    pytest.skip(reason)


#: Queries for the backfilled gauges that write_openmetrics names workbench_<metric>.
BACKFILL_QUERIES = {m: f'workbench_{m}{{service="$service"}}' for m in CANONICAL_METRICS}
PULL_START = pd.Timestamp("2026-09-01", tz="UTC")
PULL_END = PULL_START + pd.Timedelta(days=30)


@pytest.fixture(scope="session")
def backfilled(tmp_path_factory, full_sample):
    """30 days of one service's six metrics (the sample, gaps included) as OpenMetrics."""
    need(shutil.which("prometheus") is not None and shutil.which("promtool") is not None, "Debian's 'prometheus' package is not installed")
    metrics = full_sample.metrics
    keep = (metrics["service"] == "checkout") & (metrics["timestamp"] >= PULL_START) & (metrics["timestamp"] < PULL_END)
    expected = metrics[keep].reset_index(drop=True)
    path = write_openmetrics(expected, tmp_path_factory.mktemp("openmetrics") / "checkout.om")
    return path, validate_long(expected)


@pytest.fixture(scope="session")
def prometheus(backfilled):
    """A real Prometheus on 127.0.0.1 holding ``backfilled``; stopped after the session.

    The lookback delta is below the 60 s step, so a range query returns exactly the
    stored samples and the sample's gaps stay gaps (Prometheus would otherwise repeat
    the last value for 5 minutes).
    """
    with LocalPrometheus(backfilled[0], lookback_delta="59s") as server:
        yield server


def prometheus_project(folder: Path, url: str, **prometheus) -> Path:
    """A one-service project whose Prometheus source reads the backfilled gauges at ``url``."""
    settings = {"url": url, "queries": BACKFILL_QUERIES, "retries": 1, "backoff": 0.05, **prometheus}
    return make_project(folder, days=30, services=["checkout"], source={"kind": "sample", "sample": {"days": 30}, "prometheus": settings})


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster on 127.0.0.1; stopped after the session."""
    need(postgres_bin() is not None, "Debian's 'postgresql' package is not installed")
    with LocalPostgres() as server:
        yield server


@pytest.fixture()
def two_days(tmp_path):
    """A labeller on two days of checkout with an empty log and two flagged windows."""
    config = load_config(make_project(tmp_path / "p", days=14, services=["checkout"]))
    samples = load_service(config, "checkout", start="2026-09-08", end="2026-09-10")
    config.path("incidents").write_text(",".join(INCIDENT_COLUMNS) + "\n")  # a fresh log: what is written is only what the test does
    windows = to_windows(samples, config.window, config.max_fill)
    flagged = pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-09-08T03:00Z", "2026-09-09T05:00Z"]),
            "end": pd.to_datetime(["2026-09-08T03:30Z", "2026-09-09T06:00Z"]),
            "source": ["model", "rule"],
            "confidence": [91.0, None],
            "rules": ["", "cpu_high"],
        }
    )
    events = read_events(config.path("events"))
    return Labeller(IncidentLog.open(config), "checkout", windows, events, flagged)
