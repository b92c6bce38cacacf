"""``workbench retrain`` and ``workbench models``: verdicts with figures, history, locks, kills, rollback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_project

from workbench._util import try_lock
from workbench.cli import main
from workbench.config import load_config
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events
from workbench.lifecycle.aliases import CHAMPION, aliases, history, load_champion
from workbench.lifecycle.training import score_windows
from workbench.lifecycle.versions import MODEL_FILE, list_versions, service_folder
from workbench.sources import load_service
from workbench.sources.sample import ensure_sample

SERVICES = ["checkout", "payments"]
FIRST = "2026-09-29T00:00Z"  # four weeks into the 35-day sample
LATER = "2026-10-06T00:00Z"  # its end


@pytest.fixture(scope="module")
def base_project(tmp_path_factory) -> Path:
    """A 35-day, two-service sample project: long enough to replay two weeks after two weeks of history."""
    path = make_project(tmp_path_factory.mktemp("retrain") / "wb", days=35, services=SERVICES)
    ensure_sample(load_config(path))
    return path


@pytest.fixture(scope="module")
def with_champions(base_project, tmp_path_factory) -> Path:
    """The project after a first retrain: every service has its first champion."""
    folder = tmp_path_factory.mktemp("champions") / "wb"
    shutil.copytree(base_project.parent, folder)
    assert main(["--config", str(folder / "workbench.yaml"), "retrain", "--at", FIRST]) == 0
    return folder / "workbench.yaml"


@pytest.fixture()
def project(with_champions, tmp_path) -> Path:
    """A fresh copy of the project with champions, for a test that changes it."""
    shutil.copytree(with_champions.parent, tmp_path / "wb")
    return tmp_path / "wb" / "workbench.yaml"


def run_json(capsys, *argv) -> object:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_the_first_retrain_makes_every_service_its_first_champion(with_champions):
    config = load_config(with_champions)
    for service in SERVICES:
        rows = history(config, service)
        assert [r["action"] for r in rows] == ["first"]
        assert aliases(config, service) == {CHAMPION: rows[0]["moves"][CHAMPION]["to"]}
        assert rows[0]["as_of"].startswith("2026-09-29") and rows[0]["by"].startswith("retrain ")


def test_retrain_prints_a_verdict_with_its_figures_for_every_service_and_records_it(project, capsys):
    config = load_config(project)
    before = {s: aliases(config, s)[CHAMPION] for s in SERVICES}
    out = run_json(capsys, "--config", str(project), "retrain", "--at", LATER, "--json")
    assert [r["service"] for r in out] == SERVICES
    for r in out:
        assert r["verdict"] in ("promote", "keep", "not_enough_evidence")
        assert r["previous_champion"] == before[r["service"]] and r["reasons"]
        figures = r["figures"]
        for key in ("improvement", "verdict", "champion", "challenger"):
            assert key in figures, key
        rows = history(config, r["service"])
        assert len(rows) == 2 and rows[-1]["action"] == r["verdict"] and rows[-1]["figures"]["verdict"] == r["verdict"]
        assert rows[-1]["reason"] == "; ".join(r["reasons"])
        expected = r["challenger"] if r["verdict"] != "promote" else None
        assert aliases(config, r["service"]).get("challenger") == expected
        assert aliases(config, r["service"])[CHAMPION] == (r["champion"])
        assert r["drift"]["status"] in ("ok", "warn", "act")
        shown = run_json(capsys, "--config", str(project), "models", "show", "--service", r["service"], "--json")
        assert [c["status"] for c in shown["drift"]] == [r["drift"]["status"]] and shown["drift"][0]["version"] == before[r["service"]]


def test_when_due_skips_a_service_retrained_this_week(project, capsys):
    out = run_json(capsys, "--config", str(project), "retrain", "--at", "2026-10-01T00:00Z", "--when-due", "--json")
    assert {r["verdict"] for r in out} == {"not_due"} and all(r["trigger"].startswith("not due") for r in out)
    config = load_config(project)
    assert all(len(history(config, s)) == 1 for s in SERVICES)
    assert all(len(list_versions(config, s)) == 1 for s in SERVICES)  # nothing trained
    out = run_json(capsys, "--config", str(project), "retrain", "--at", LATER, "--when-due", "--services", "checkout", "--json")
    assert out[0]["verdict"] != "not_due" and out[0]["trigger"].startswith("scheduled")


def test_a_second_retrain_of_the_same_service_refuses_and_changes_nothing(project, capsys):
    config = load_config(project)
    before = (service_folder(config, "checkout") / "history.jsonl").read_bytes()
    with try_lock(service_folder(config, "checkout") / ".retrain.lock", "held by the test"):
        capsys.readouterr()
        assert main(["--config", str(project), "retrain", "--at", LATER, "--services", "checkout"]) == 1
        assert "another retrain of checkout is running" in capsys.readouterr().err
    assert (service_folder(config, "checkout") / "history.jsonl").read_bytes() == before
    assert len(list_versions(config, "checkout")) == 1


def test_a_damaged_champion_stops_the_retrain_with_a_clear_error(project, capsys):
    config = load_config(project)
    champion = aliases(config, "checkout")[CHAMPION]
    (service_folder(config, "checkout") / champion / MODEL_FILE).write_bytes(b"truncated")
    capsys.readouterr()
    assert main(["--config", str(project), "retrain", "--at", LATER, "--services", "checkout"]) == 2
    assert "does not match the checksum" in capsys.readouterr().err
    assert aliases(config, "checkout") == {CHAMPION: champion} and len(history(config, "checkout")) == 1


def test_a_retrain_killed_midway_leaves_champion_and_history_as_they_were(project):
    """SIGKILL a real retrain at several moments: the history is the old one or has one whole new row."""
    config = load_config(project)
    path = service_folder(config, "checkout") / "history.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    outcomes = []
    for delay in (1.0, 2.0, 2.6, 3.2):
        before = history(config, "checkout")
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "--config", str(project), "retrain", "--at", LATER, "--services", "checkout"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = history(config, "checkout")  # parses: no half row
        assert after[: len(before)] == before and len(after) - len(before) in (0, 1)
        outcomes.append(len(after) - len(before))
        model, meta = load_champion(config, "checkout")
        assert meta["version"] == aliases(config, "checkout")[CHAMPION]
        assert not [p for p in path.parent.iterdir() if p.name.startswith(".history.jsonl.")]  # no half-written history
        assert all(v["sha256"] for v in list_versions(config, "checkout"))  # a killed save is never a version
    assert 0 in outcomes  # at least one kill landed before the decision (the test would prove nothing otherwise)


def test_rollback_restores_the_previous_champion_and_score_uses_it_byte_for_byte(project, capsys):
    config = load_config(project)
    first = aliases(config, "checkout")[CHAMPION]
    windows = to_windows(load_service(config, "checkout", start="2026-10-01", end=LATER), config.window, config.max_fill)
    events = read_events(config.path("events"))
    earlier = score_windows(load_champion(config, "checkout")[0], windows, events)[["raw", "confidence"]].to_numpy().tobytes()

    out = run_json(capsys, "--config", str(project), "train", "--services", "checkout", "--json")
    second = out[0]["version"]
    assert out[0]["champion"] == first  # a trained version waits for a comparison or a person
    assert main(["--config", str(project), "models", "promote", second, "--service", "checkout", "--reason", "test"]) == 0
    assert aliases(config, "checkout")[CHAMPION] == second
    assert main(["--config", str(project), "models", "rollback", "--service", "checkout"]) == 0
    assert aliases(config, "checkout")[CHAMPION] == first
    again = score_windows(load_champion(config, "checkout")[0], windows, events)[["raw", "confidence"]].to_numpy().tobytes()
    assert again == earlier

    result = run_json(capsys, "--config", str(project), "score", "--services", "checkout", "--at", LATER, "--dry-run", "--json")
    assert result["services"][0]["model_version"] == first and result["services"][0]["model"] == "ok"


def test_models_list_show_and_prune(project, capsys):
    config = load_config(project)
    champion = aliases(config, "checkout")[CHAMPION]
    listed = run_json(capsys, "--config", str(project), "models", "list", "--json")
    assert list(listed) == SERVICES and listed["checkout"][0]["aliases"] == [CHAMPION]
    assert listed["checkout"][0]["sha256"] and listed["checkout"][0]["trained_to"].startswith("2026-09-29")
    shown = run_json(capsys, "--config", str(project), "models", "show", "--service", "checkout", "--json")
    assert shown["aliases"] == {CHAMPION: champion} and shown["history"][0]["action"] == "first"
    capsys.readouterr()
    assert main(["--config", str(project), "models", "show", "--service", "checkout"]) == 0
    text = capsys.readouterr().out
    assert f"champion   {champion}" in text and "first by retrain" in text
    assert "drift checks: none yet" in text  # the first retrain had no champion to check
    assert shown["drift"] == []
    run_json(capsys, "--config", str(project), "train", "--services", "checkout", "--json")
    run_json(capsys, "--config", str(project), "train", "--services", "checkout", "--json")
    pruned = run_json(capsys, "--config", str(project), "models", "prune", "--keep", "1", "--json")
    assert len(pruned["removed"]["checkout"]) == 1 and pruned["removed"]["payments"] == []
    assert champion in {v["version"] for v in list_versions(config, "checkout")}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["models", "promote", "nope", "--service", "checkout"], "no model version 'nope'"),
        (["models", "rollback", "--service", "checkout"], "no earlier champion"),
        (["models", "show", "--service", "billing"], "billing"),
        (["retrain", "--services", "billing"], "billing"),
        (["retrain", "--at", "yesterday-ish"], "yesterday-ish"),
    ],
)
def test_bad_model_commands_exit_2_with_a_clear_message(project, capsys, argv, message):
    capsys.readouterr()
    assert main(["--config", str(project), *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_service_too_young_for_the_replay_keeps_its_champion_for_lack_of_evidence(base_project, tmp_path, capsys):
    shutil.copytree(base_project.parent, tmp_path / "wb")
    config_path = tmp_path / "wb" / "workbench.yaml"
    assert main(["--config", str(config_path), "retrain", "--at", "2026-09-20T00:00Z", "--services", "checkout"]) == 0  # first
    out = run_json(capsys, "--config", str(config_path), "retrain", "--at", "2026-09-22T00:00Z", "--services", "checkout", "--json")
    assert out[0]["verdict"] == "not_enough_evidence" and "data start 2026-09-01" in out[0]["reasons"][0]
    config = load_config(config_path)
    assert [r["action"] for r in history(config, "checkout")] == ["first", "not_enough_evidence"]
    assert aliases(config, "checkout")[CHAMPION] == history(config, "checkout")[0]["moves"][CHAMPION]["to"]


def test_retrain_as_of_a_time_uses_only_data_and_labels_before_it(with_champions):
    config = load_config(with_champions)
    meta = list_versions(config, "checkout")[0]
    assert pd.Timestamp(meta["card"]["trained_to"]) <= pd.Timestamp(FIRST)


def test_while_drift_acts_the_challenger_learns_from_the_shorter_span(project, monkeypatch, capsys):
    import workbench.workflows.retrain as retrain_module

    acting = {"status": "act", "at": LATER, "reasons": ["act: latency_p95_z: PSI 3 (act ≥ 0.25), p = 1e-9"]}
    monkeypatch.setattr(retrain_module, "check_service_drift", lambda *a, **k: dict(acting))
    out = run_json(capsys, "--config", str(project), "retrain", "--at", LATER, "--services", "checkout", "--when-due", "--json")
    assert out[0]["trigger"].startswith("drift acted: act: latency_p95_z")
    config = load_config(project)
    row = history(config, "checkout")[-1]
    assert row["train_span"] == config.lifecycle.drift.train_span == "14D" and row["trigger"] == out[0]["trigger"]
    card = {v["version"]: v for v in list_versions(config, "checkout")}[out[0]["challenger"] or out[0]["champion"]]["card"]
    assert pd.Timestamp(card["trained_from"]) >= pd.Timestamp(LATER) - pd.Timedelta("14D") - pd.Timedelta("15min")


def add_challenger(config, service: str, before: str) -> str:
    """The recipe trained on the data before ``before`` with another seed, made the challenger (as a keep verdict would)."""
    from workbench.labels.incidents import read_incidents
    from workbench.lifecycle.aliases import CHALLENGER, set_alias
    from workbench.lifecycle.training import describe_model, train_latest
    from workbench.lifecycle.versions import save_model

    windows = to_windows(load_service(config, service, end=before), config.window, config.max_fill)
    settings = config.model.model_copy(update={"random_state": 5})
    model = train_latest(service, windows, read_incidents(config.path("incidents")), read_events(config.path("events")), settings)
    version = save_model(config, model, describe_model(model)).name
    set_alias(config, service, CHALLENGER, version, reason="test", action="challenger")
    return version


def test_retrain_compares_on_the_live_shadow_scores_where_they_exist(project, capsys):
    config = load_config(project)
    add_challenger(config, "checkout", FIRST)
    # A week of the live loop: the champion pages, the challenger scores in the shadow.
    assert main(["--config", str(project), "score", "--services", "checkout", "--from", FIRST, "--to", LATER]) == 0
    out = run_json(capsys, "--config", str(project), "retrain", "--services", "checkout", "--at", LATER, "--json")[0]
    assert out["figures"]["live_windows"] == 7 * 96 and out["figures"]["compared_windows"] == 14 * 96
    assert f"{7 * 96} of the {14 * 96} compared windows are live scores" in " ".join(out["reasons"])
    assert history(config, "checkout")[-1]["figures"]["live_windows"] == 7 * 96


def test_an_unreadable_alert_state_leaves_the_replay_alone_and_says_so(project, capsys):
    config = load_config(project)
    path = config.root / config.alerting.state
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database" * 100)
    out = run_json(capsys, "--config", str(project), "retrain", "--services", "checkout", "--at", LATER, "--json")[0]
    assert out["verdict"] in ("promote", "keep", "not_enough_evidence") and out["figures"]["live_windows"] == 0
    assert any("could not be read" in r and "replay alone" in r for r in out["reasons"])
    assert path.read_bytes() == b"not a database" * 100  # left for a person to look at
