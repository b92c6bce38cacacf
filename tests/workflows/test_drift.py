"""Drift checks of a champion over its newest windows: logged, incidents left out, a migration acts."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.errors import DataError
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.lifecycle.aliases import load_champion
from workbench.lifecycle.versions import service_folder
from workbench.sources import load_service
from workbench.sources.sample import ensure_sample
from workbench.workflows.drift import check_service_drift, drift_log, drift_table
from workbench.workflows.retrain import retrain

AT = pd.Timestamp("2026-09-29T00:00Z")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 35-day checkout project whose champion was trained on the first four weeks."""
    path = make_project(tmp_path_factory.mktemp("drift") / "wb", days=35, services=["checkout"], source={"kind": "sample", "sample": {"seed": 7, "start": "2026-09-01", "days": 35, "frequency": "1min", "drift": False}})
    config = load_config(path)
    ensure_sample(config)
    retrain(config, at=AT)
    return path


@pytest.fixture()
def project(trained, tmp_path):
    shutil.copytree(trained.parent, tmp_path / "wb")
    config = load_config(tmp_path / "wb" / "workbench.yaml")
    windows = to_windows(load_service(config, "checkout"), config.window, config.max_fill)
    return config, windows, read_events(config.path("events"))


def test_checks_on_ordinary_days_hardly_act_and_are_logged(project):
    config, windows, events = project
    champion = load_champion(config, "checkout")[0]
    statuses = []
    for day in pd.date_range("2026-09-30", "2026-10-05", freq="1D", tz="UTC"):
        row = check_service_drift(config, "checkout", champion, windows, events, day, version="v1")
        statuses.append(row["status"])
        assert row["windows"] <= 96 and row["from"] == (day - pd.Timedelta("1D")).isoformat()
    assert statuses.count("act") <= 1  # the floor: at most one acting alarm per 30 days on stationary data
    log = drift_log(config, "checkout")
    assert [r["status"] for r in log] == statuses and log[0]["version"] == "v1"
    table = drift_table(config)
    assert len(table) == len(statuses) and list(table["status"]) == statuses
    assert {"worst feature", "worst PSI", "alert rate", "promised rate"} <= set(table.columns)


def test_a_migration_that_raises_latency_for_good_acts_and_names_it(project):
    config, windows, events = project
    champion = load_champion(config, "checkout")[0]
    moved = windows.copy()
    after = moved.index >= pd.Timestamp("2026-10-02T00:00Z")
    for metric in ("latency_p95", "latency_p99"):
        moved.loc[after, metric] *= 1.4
    row = check_service_drift(config, "checkout", champion, moved, events, pd.Timestamp("2026-10-03T00:00Z"), log=False)
    assert row["status"] == "act"
    assert any("latency_p95" in reason or "latency_p99" in reason for reason in row["reasons"])
    assert drift_log(config, "checkout") == []  # log=False writes nothing


def test_labelled_incident_windows_are_left_out(project):
    config, windows, events = project
    incidents = read_incidents(config.path("incidents"))
    mine = incidents[(incidents["service"] == "checkout") & (incidents["start"] >= "2026-09-30")]
    if mine.empty:
        pytest.skip("this sample has no checkout incident in the checked days")
    inc = mine.iloc[0]
    day = (inc["start"] + pd.Timedelta("1D")).floor("1D")
    champion = load_champion(config, "checkout")[0]
    row = check_service_drift(config, "checkout", champion, windows, events, day, log=False)
    width = pd.Timedelta(config.window)
    span = windows.index[(windows.index >= day - pd.Timedelta("1D")) & (windows.index < day)]
    inside = ((span + width > inc["start"]) & (span < inc["end"])).sum()
    assert inside > 0 and row["windows"] <= len(span) - inside


def test_a_champion_without_a_profile_is_unknown_not_alarming(project):
    config, windows, events = project
    champion = load_champion(config, "checkout")[0]
    champion.metadata.pop("drift_reference")
    row = check_service_drift(config, "checkout", champion, windows, events, pd.Timestamp("2026-10-01T00:00Z"), log=False)
    assert row["status"] == "unknown" and "no training profile" in row["reasons"][0]


def test_a_damaged_drift_log_is_named(project):
    config, *_ = project
    (service_folder(config, "checkout") / "drift.jsonl").write_text('{"at": "2026-10-01", "status": "ok"}\n{"at": ')
    with pytest.raises(DataError, match="drift.jsonl, line 2"):
        drift_log(config, "checkout")
