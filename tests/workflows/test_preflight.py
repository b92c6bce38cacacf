"""Checks before a report run (:mod:`workbench.workflows.preflight`): every problem named, in seconds, before anything runs."""

from __future__ import annotations

import time

import pytest
from conftest import FIXTURE_NOTEBOOKS, make_project

from workbench.cli import main
from workbench.config import load_config
from workbench.errors import DataError, SourceError
from workbench.workflows.preflight import check_ready


@pytest.fixture()
def project(tmp_path):
    return make_project(tmp_path / "wb", notebooks=FIXTURE_NOTEBOOKS)


def test_a_healthy_project_passes(sample_project):
    check_ready(load_config(sample_project), {})
    check_ready(load_config(sample_project), {"service": "search", "start": "2026-09-05", "end": "2026-09-06"})


def test_every_problem_is_named_at_once(project):
    (project.parent / "data" / "sample-labels" / "events.csv").write_text("")
    config = load_config(project)
    with pytest.raises(DataError) as err:
        check_ready(config, {"start": "2027-01-01", "end": "2027-01-02"})
    text = str(err.value)
    assert text.startswith("the run cannot work, so nothing was run")
    assert "events calendar:" in text and "the file is empty" in text and "source sample:" in text and "no metrics" in text


def test_an_unreachable_prometheus_is_a_source_error(project):
    config = load_config(project)
    with pytest.raises(SourceError, match="source prometheus: .*could not be reached"):
        check_ready(config.model_copy(update={"source": config.source.model_copy(update={"prometheus": config.source.prometheus.model_copy(
            update={"url": "http://127.0.0.1:9", "retries": 0})})}), {"source": "prometheus"})


def test_report_with_a_missing_metrics_file_fails_in_seconds_and_creates_nothing(tmp_path, capsys, monkeypatch):
    path = make_project(tmp_path / "wb", notebooks=FIXTURE_NOTEBOOKS, source={"kind": "files", "files": {"path": "gone.csv"}})
    monkeypatch.chdir(path.parent)
    began = time.monotonic()
    assert main(["report"]) == 2
    assert time.monotonic() - began < 10
    err = capsys.readouterr().err
    assert "the run cannot work, so nothing was run" in err and "metrics file not found" in err and "gone.csv" in err
    assert not (path.parent / "reports").exists() or not any((path.parent / "reports").iterdir())
