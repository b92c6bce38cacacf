"""Shared fixtures: a small sample project in a temporary folder, built once per session.

Tests never write into the repository's own data/ or reports/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workbench.config import load_config
from workbench.contracts import CANONICAL_METRICS, INCIDENT_COLUMNS, validate_long
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events
from workbench.labels.labeller import Labeller
from workbench.labels.log import IncidentLog
from workbench.sources import load_service
from workbench.sources.sample import ensure_sample, generate
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
    settings = yaml.safe_load((REPO / "workbench.yaml").read_text())
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
    config = load_config(REPO / "workbench.yaml")
    return generate(config.source.sample, list(config.services))


@pytest.fixture(autouse=True)
def _no_root_override(monkeypatch):
    # A WORKBENCH_ROOT left in the developer's shell must not steer the tests.
    monkeypatch.delenv("WORKBENCH_ROOT", raising=False)
    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)


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
