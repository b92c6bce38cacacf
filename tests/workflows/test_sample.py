"""``workbench sample``: the metrics always, the sample's labels only when asked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import make_project

from workbench.cli import main
from workbench.config import load_config
from workbench.contracts import EVENT_COLUMNS, INCIDENT_COLUMNS
from workbench.labels.incidents import read_events, read_incidents
from workbench.sources.sample import sample_labels, sample_path
from workbench.workflows.sample import prepare_sample, write_sample_labels

TEAM_INCIDENTS = "id,service,start,end,severity,cause,resolution,labelled_by\nINC-9,checkout,2026-09-10 10:00,2026-09-10 11:00,major,ours,fixed,me\n"
TEAM_EVENTS = "start,end,service,type,description\n2026-09-11 10:00,2026-09-11 10:05,checkout,deploy,ours\n"


@pytest.fixture()
def config(tmp_path):
    """A 14-day (the shortest allowed) two-service project without label files."""
    return load_config(make_project(tmp_path / "p", days=14, labels=False, services=["checkout", "auth"]))


def header(path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def test_write_sample_labels_writes_both_files(config):
    incidents_path, events_path = config.path("incidents"), config.path("events")
    assert not incidents_path.exists() and not events_path.exists()
    written = write_sample_labels(config)
    assert written == [incidents_path, events_path]
    assert header(incidents_path) == INCIDENT_COLUMNS
    assert header(events_path) == EVENT_COLUMNS
    expected_incidents, expected_events = sample_labels(config)
    incidents, events = read_incidents(incidents_path), read_events(events_path)
    assert len(events) == len(expected_events) > 0
    assert len(incidents) == len(expected_incidents)
    assert events["description"].tolist() == expected_events["description"].tolist()
    assert set(incidents["service"]) <= {"checkout", "auth"}
    # Deploys are drawn per configured service. (Campaign targets are a fixed list in
    # scenarios.schedule, so the calendar may also name unconfigured services.)
    assert set(events.loc[events["type"] == "deploy", "service"]) == {"checkout", "auth"}
    assert sorted(p.name for p in incidents_path.parent.iterdir()) == ["events.csv", "incidents.csv"]  # no temp files


def test_write_sample_labels_replaces_the_teams_labels(config):
    config.path("incidents").parent.mkdir(parents=True)
    config.path("incidents").write_text(TEAM_INCIDENTS)
    config.path("events").write_text(TEAM_EVENTS)
    write_sample_labels(config)
    assert "INC-9" not in config.path("incidents").read_text()
    assert ",ours\n" not in config.path("events").read_text()


@pytest.mark.parametrize("force", [False, True])
def test_prepare_sample_without_labels_never_writes_them(config, force):
    path = prepare_sample(config, force=force)
    assert path == sample_path(config) and path.is_file()
    metrics = pd.read_parquet(path)
    assert set(metrics["service"].astype(str)) == {"checkout", "auth"}
    assert not config.path("incidents").exists() and not config.path("events").exists()


def test_prepare_sample_leaves_the_teams_labels_alone(config):
    config.path("incidents").parent.mkdir(parents=True)
    config.path("incidents").write_text(TEAM_INCIDENTS)
    config.path("events").write_text(TEAM_EVENTS)
    prepare_sample(config)
    prepare_sample(config, force=True)
    assert config.path("incidents").read_text() == TEAM_INCIDENTS
    assert config.path("events").read_text() == TEAM_EVENTS


def test_prepare_sample_with_labels(config):
    path = prepare_sample(config, write_labels=True)
    assert path.is_file()
    assert header(config.path("incidents")) == INCIDENT_COLUMNS and header(config.path("events")) == EVENT_COLUMNS


@pytest.mark.parametrize("argv, labels", [(["sample"], False), (["sample", "--write-labels"], True), (["sample", "--force", "--write-labels"], True)])
def test_cli_writes_labels_only_when_asked(config, argv, labels, capsys):
    path = config.root / "workbench.yaml"
    assert main(["--config", str(path), *argv]) == 0
    printed = capsys.readouterr().out.strip()
    assert Path(printed).resolve() == sample_path(config)  # printed relative to the working folder
    assert config.path("incidents").exists() is labels
    assert config.path("events").exists() is labels
    if labels:
        assert header(config.path("incidents")) == INCIDENT_COLUMNS
        assert header(config.path("events")) == EVENT_COLUMNS
