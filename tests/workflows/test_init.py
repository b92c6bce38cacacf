"""``workbench init``: a project for a team's own metrics file (:mod:`workbench.workflows.init`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO

from workbench.cli import main
from workbench.config import load_config
from workbench.errors import ConfigError, DataError
from workbench.labels.incidents import read_events, read_incidents
from workbench.sources import load_service
from workbench.workflows.init import init_from_file

TEAM = Path(__file__).parents[1] / "data" / "team_metrics.csv"


@pytest.fixture()
def folder(tmp_path) -> Path:
    """A fresh clone's root: the bundled sample's workbench.yaml and nothing else."""
    shutil.copy(REPO / "workbench.yaml", tmp_path / "workbench.yaml")
    return tmp_path


def test_init_writes_a_project_for_the_files_services_with_empty_labels(folder):
    sample_config = (folder / "workbench.yaml").read_text()
    result = init_from_file(folder, TEAM)
    assert result.services == ["api", "web"]
    config = load_config(folder / "workbench.yaml")
    assert config.services == ["api", "web"] and config.source.kind == "files" and config.source.files.form == "wide"
    assert config.capacity.services == {} and config.rules.critical  # the sample's rules, not its sizes
    assert (folder / "workbench.sample.yaml").read_text() == sample_config
    assert read_incidents(config.path("incidents")).empty and read_events(config.path("events")).empty
    assert config.path("incidents") == folder / "data" / "incidents.csv"
    wide = load_service(config, "web")
    assert list(wide.columns) == ["request_rate", "error_rate", "latency_p95", "latency_p99", "cpu_usage", "memory_usage"]
    assert wide.index[0] == pd.Timestamp("2026-07-06T00:00Z") and len(wide) > 7000
    assert result.found["api"]["missing"] == []


def test_existing_labels_are_kept(folder):
    (folder / "data").mkdir()
    (folder / "data" / "incidents.csv").write_text("id,service,start,end,severity,cause,resolution,labelled_by\n"
                                                  "INC-1,api,2026-07-10T10:00Z,2026-07-10T11:00Z,major,db,failover,ana\n")
    result = init_from_file(folder, TEAM)
    assert folder / "data" / "incidents.csv" not in result.created
    assert read_incidents(folder / "data" / "incidents.csv")["id"].tolist() == ["INC-1"]


def test_a_teams_own_config_is_replaced_only_with_force(folder):
    init_from_file(folder, TEAM)
    own = (folder / "workbench.yaml").read_text()
    with pytest.raises(ConfigError, match="already configures your own source; nothing was written"):
        init_from_file(folder, TEAM)
    assert (folder / "workbench.yaml").read_text() == own
    result = init_from_file(folder, TEAM, force=True)
    assert result.backup == folder / "workbench.yaml.bak" and result.backup.read_text() == own


def test_bad_data_writes_nothing(folder):
    frame = pd.read_csv(TEAM)
    frame["request_rate"] = frame.groupby("service")["request_rate"].cumsum()  # a raw counter
    bad = folder / "counter.csv"
    frame.to_csv(bad, index=False)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(DataError, match="cumulative counter"):
        init_from_file(folder, bad)
    assert sorted(p.name for p in folder.iterdir()) == before and yaml.safe_load((folder / "workbench.yaml").read_text())["source"]["kind"] == "sample"


def test_cli_init_with_the_files_own_names(folder, capsys, monkeypatch):
    frame = pd.read_csv(TEAM).rename(columns={"timestamp": "time", "service": "app", "latency_p95": "p95_ms"})
    frame[frame["time"] < "2026-07-20"].to_csv(folder / "export.csv", index=False)
    monkeypatch.chdir(folder)
    argv = ["init", "--from-csv", "export.csv", "--column", "timestamp=time", "--column", "service=app", "--metric", "p95_ms=latency_p95", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["services"] == ["api", "web"] and "latency_p95" in out["found"]["api"]["metrics"]
    config = load_config(folder / "workbench.yaml")
    assert config.source.files.path == "export.csv" and config.source.files.metrics == {"p95_ms": "latency_p95"}
    assert main(["init", "--from-csv", "export.csv", "--metric", "p95"]) == 2
    assert "--metric takes NAME=VALUE" in capsys.readouterr().err


# -- from Prometheus ---------------------------------------------------------------------------
def test_init_from_prometheus_finds_the_services_and_leaves_out_a_metric_nobody_has(prometheus, folder):
    from conftest import BACKFILL_QUERIES, PULL_START

    from workbench.workflows.init import init_from_prometheus

    queries = {**BACKFILL_QUERIES, "latency_p99": 'no_such_metric{service="$service"}'}
    result = init_from_prometheus(folder, prometheus.url, queries=queries, now=PULL_START + pd.Timedelta(days=10))
    assert result.services == ["checkout"]
    found = result.found["checkout"]
    assert found["missing"] == ["latency_p99"] and found["metrics"]["cpu_usage"] >= 55  # an hour of 1-minute samples
    config = load_config(folder / "workbench.yaml")
    assert config.source.kind == "prometheus" and config.source.prometheus.url == prometheus.url
    assert config.source.prometheus.queries["latency_p99"] is None and "latency_p99" not in config.source.prometheus.templates
    assert read_incidents(config.path("incidents")).empty


def test_init_from_prometheus_with_the_wrong_label_or_no_server_writes_nothing(prometheus, folder, capsys):
    from workbench.workflows.init import init_from_prometheus

    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(ConfigError, match="no series with a `team` label"):
        init_from_prometheus(folder, prometheus.url, label="team")
    assert main(["init", "--root", str(folder), "--from-prometheus", "http://127.0.0.1:9"]) == 1
    assert "could not be reached" in capsys.readouterr().err
    assert main(["init", "--root", str(folder), "--from-prometheus", "http://alice:S3cretPW@127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "credentials do not belong in workbench.yaml" in err and "S3cretPW" not in err
    assert sorted(p.name for p in folder.iterdir()) == before
