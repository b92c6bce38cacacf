"""``workbench train``: a new checksummed version per service, loadable, never replacing one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_project

from workbench.cli import main
from workbench.config import load_config
from workbench.errors import DataError
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events
from workbench.lifecycle.training import score_windows
from workbench.lifecycle.versions import list_versions, load_model
from workbench.sources import load_service
from workbench.workflows.train import train_services


@pytest.fixture()
def project(tmp_path, monkeypatch):
    path = make_project(tmp_path / "wb", days=14, services=["checkout", "auth"])
    monkeypatch.chdir(path.parent)
    return path


def test_train_saves_one_version_per_service(project, capsys):
    assert main(["--config", str(project), "train", "--services", "checkout", "--json"]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert [s["service"] for s in saved] == ["checkout"]
    config = load_config(project)
    assert [v["version"] for v in list_versions(config, "checkout")] == [saved[0]["version"]]
    assert list_versions(config, "auth") == []  # only what was asked for


def test_a_trained_version_loads_and_scores_like_the_model_it_saved(project):
    config = load_config(project)
    (result,) = train_services(config, ["checkout"])
    loaded = load_model(config, "checkout")
    windows = to_windows(load_service(config, "checkout"), config.window, config.max_fill)
    events = read_events(config.path("events"))
    scores = score_windows(loaded, windows, events)["confidence"].dropna()
    assert len(scores) > 100 and np.isfinite(scores).all()
    assert result.facts["training windows"] == loaded.training_windows


def test_training_twice_keeps_both_versions(project):
    config = load_config(project)
    first = train_services(config, ["checkout"])[0].version
    second = train_services(config, ["checkout"])[0].version
    assert first != second
    assert [v["version"] for v in list_versions(config, "checkout")] == [first, second]


def test_too_little_history_is_a_clear_error_and_exit_2(tmp_path, monkeypatch, capsys):
    path = make_project(tmp_path / "short", days=14, services=["checkout"], model={"train_span": "5D"})
    monkeypatch.chdir(path.parent)
    with pytest.raises(DataError, match="7 days"):
        train_services(load_config(path))
    assert main(["--config", str(path), "train"]) == 2
    assert "7 days" in capsys.readouterr().err
    assert not (path.parent / "models").exists()


def test_an_unknown_service_is_refused(project, capsys):
    assert main(["--config", str(project), "train", "--services", "billing"]) == 2
    assert "unknown service 'billing'" in capsys.readouterr().err
