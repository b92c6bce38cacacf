"""``workbench evaluate``'s workflow: the three systems replayed and compared on temporary sample projects."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.contracts import ALERT_COLUMNS
from workbench.sources.sample import ensure_sample
from workbench.workflows.evaluate import run_systems

SYSTEMS = ("baseline", "model", "hybrid")
FIGURES = {"alerts", "alerts_per_week", "fp_share", "false_alerts", "incidents", "missed_incidents", "ttd_median_minutes", "ttd_worst_minutes"}
# "latency p95 far above its usual level for a weekday 14:00 (z +12.0); CPU well below its usual level (z -5.1)"
TOP = re.compile(
    r"^[\w ]+ (far |well )?(above|below) its usual level for a (weekday|weekend) \d\d:\d\d \(z [+-]\d+\.\d\)"
    r"(; [\w ]+ (far |well )?(above|below) its usual level \(z [+-]\d+\.\d\))*$"
)


@pytest.fixture(scope="session")
def short(sample_config):
    """Two services of the 14-day sample; verdicts from day 8 (the default needs 14 days first)."""
    model = sample_config.model.model_copy(update={"min_train": "8D", "retrain_every": "3D"})
    config = sample_config.model_copy(update={"model": model})
    return config, run_systems(config, services=["checkout", "payments"], jobs=1)


@pytest.fixture(scope="session")
def explained(tmp_path_factory):
    """28 days of checkout (two weeks of verdicts), model alerts explained."""
    config = load_config(make_project(tmp_path_factory.mktemp("evaluate") / "p", days=28, services=["checkout"]))
    ensure_sample(config)
    return config, run_systems(config, explain_services=["checkout"], jobs=1)


def test_runs_cover_the_chosen_services(short):
    _, evaluation = short
    assert list(evaluation.runs) == ["checkout", "payments"]
    assert set(evaluation.incidents["service"]) <= {"checkout", "payments"}
    assert len(evaluation.incidents) > 0


@pytest.mark.parametrize("system", SYSTEMS)
def test_alert_frames_follow_the_contract(short, system):
    _, evaluation = short
    alerts = evaluation.alerts[system]
    assert list(alerts.columns) == ALERT_COLUMNS
    assert len(alerts) == sum(len(run.alerts[system]) for run in evaluation.runs.values())
    assert set(alerts["service"]) <= {"checkout", "payments"}
    assert (alerts["end"] > alerts["start"]).all()
    assert alerts["id"].is_unique
    for run in evaluation.runs.values():
        assert list(run.alerts[system].columns) == ALERT_COLUMNS


def test_the_baseline_has_no_model_and_the_model_no_rules(short):
    _, evaluation = short
    assert set(evaluation.alerts["baseline"]["source"]) == {"rule"}
    assert set(evaluation.alerts["model"]["source"]) <= {"model"}
    assert len(evaluation.alerts["baseline"]) > 0


def test_the_period_starts_at_the_first_model_verdict(short):
    config, evaluation = short
    firsts = {s: run.scores["confidence"].first_valid_index() for s, run in evaluation.runs.items()}
    assert evaluation.start == min(firsts.values())
    for run in evaluation.runs.values():
        earliest = run.windows.index[0] + pd.Timedelta(config.model.min_train)
        assert run.scores.loc[: earliest - pd.Timedelta("1ns"), "confidence"].isna().all()  # no verdict before min_train
    assert evaluation.start >= min(run.windows.index[0] for run in evaluation.runs.values()) + pd.Timedelta("8D")
    assert evaluation.end == max(run.windows.index[-1] for run in evaluation.runs.values()) + pd.Timedelta(config.window)
    # The model cannot alert before it has a verdict.
    assert (evaluation.alerts["model"]["start"] >= evaluation.start).all()


def test_results_are_computed_from_the_alerts_of_the_period(short):
    _, evaluation = short
    results = evaluation.results
    assert set(results) == {*SYSTEMS, "summary"}
    weeks = (evaluation.end - evaluation.start) / pd.Timedelta(days=7)
    summary = results["summary"]
    assert summary["from"] == str(evaluation.start) and summary["to"] == str(evaluation.end)
    assert summary["weeks"] == round(weeks, 2)
    in_period = evaluation.incidents[(evaluation.incidents["start"] >= evaluation.start) & (evaluation.incidents["start"] < evaluation.end)]
    for system in SYSTEMS:
        r = results[system]
        assert FIGURES <= set(r)
        alerts = evaluation.alerts[system]
        count = int(((alerts["start"] >= evaluation.start) & (alerts["start"] < evaluation.end)).sum())
        assert r["alerts"] == count
        assert r["alerts_per_week"] == round(count / weeks, 2)
        assert 0 <= r["fp_share"] <= 1 and r["false_alerts"] <= count
        assert r["incidents"] == len(in_period)
        assert set(r["missed_incidents"]) <= set(in_period["id"])
    base = results["baseline"]["alerts"]
    for system in ("model", "hybrid"):
        assert results[system]["volume_change"] == round(results[system]["alerts"] / base - 1, 3)
    assert summary["regressions"] == sorted(set(results["hybrid"]["missed_incidents"]) - set(results["baseline"]["missed_incidents"]))


def test_nothing_is_explained_unless_asked(short):
    _, evaluation = short
    for system in SYSTEMS:
        assert (evaluation.alerts[system]["top_features"].fillna("") == "").all()
    assert all(run.shap.empty for run in evaluation.runs.values())


def test_model_alerts_say_why(explained):
    _, evaluation = explained
    run = evaluation.runs["checkout"]
    checked = 0
    for system in ("model", "hybrid"):
        alerts = evaluation.alerts[system]
        by_model = alerts[alerts["source"] != "rule"]
        checked += len(by_model)
        for line in by_model["top_features"]:
            assert TOP.match(line), line
        assert (alerts.loc[alerts["source"] == "rule", "top_features"].fillna("") == "").all()
    assert checked > 0, "the 28-day checkout sample has model alerts to explain"
    assert (evaluation.alerts["baseline"]["top_features"].fillna("") == "").all()
    # One row of SHAP values per explained alert, over the model's z-features.
    explained_ids = set(evaluation.alerts["hybrid"].query("source != 'rule'")["id"]) | set(evaluation.alerts["model"]["id"])
    assert set(run.shap.index) == explained_ids
    assert all(c.endswith("_z") for c in run.shap.columns)
    assert (run.shap.min(axis=1) < 0).all()  # each explained window has a push towards anomalous
