"""Replaying the three systems over one service (:mod:`workbench.evaluate.replay`): alerts for
each, rerouting at another threshold, and explanations that change nothing they are given.
"""

import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.contracts import ALERT_COLUMNS, AlertAction, AlertSource
from workbench.detect.explain import FEATURE_NAMES
from workbench.evaluate.replay import (
    ServiceRun,
    explain_alerts,
    route_hybrid,
    run_service,
)
from workbench.labels.incidents import read_events, read_incidents
from workbench.sources import load_service


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """28 days of checkout (two weeks of model verdicts), its labels, and one run (about 10 s)."""
    config = load_config(make_project(tmp_path_factory.mktemp("replay") / "p", days=28, services=["checkout"]))
    samples = load_service(config, "checkout")
    incidents = read_incidents(config.path("incidents"))
    events = read_events(config.path("events"))
    return config, run_service(config, "checkout", samples, incidents, events)


def test_run_service_gives_alerts_for_each_system(replay):
    _, run = replay
    assert isinstance(run, ServiceRun) and run.service == "checkout"
    assert list(run.alerts) == ["baseline", "model", "hybrid"]
    for name, alerts in run.alerts.items():
        assert list(alerts.columns) == ALERT_COLUMNS, name
        assert (alerts["service"] == "checkout").all(), name
        assert (alerts["end"] > alerts["start"]).all() and (alerts["detected_at"] >= alerts["start"]).all(), name
        assert alerts["id"].is_unique, name
    assert not run.alerts["model"].empty and not run.alerts["hybrid"].empty  # something to explain
    assert set(run.alerts["baseline"]["source"]) <= {AlertSource.RULE}
    assert set(run.alerts["model"]["source"]) <= {AlertSource.MODEL}
    assert set(run.alerts["model"]["action"]) <= {AlertAction.INVESTIGATE}
    assert (run.alerts["hybrid"]["top_features"] == "").all()  # explaining is a separate step


def test_the_run_keeps_what_plots_and_explanations_need(replay):
    _, run = replay
    assert run.windows.index.equals(run.scores.index)
    assert run.planned.index.equals(run.windows.index) and run.planned.dtype == bool
    assert run.models and run.model_at(run.windows.index[0] - pd.Timedelta("1D")) is None
    assert run.model_at(run.windows.index[-1]) is run.models[-1]
    assert set(run.events["service"]) <= {"checkout", "*"}
    assert run.shap.empty


def test_the_model_alone_is_the_hybrid_without_rules(replay):
    config, run = replay
    pd.testing.assert_frame_equal(route_hybrid(run, config, rules=False), run.alerts["model"])
    pd.testing.assert_frame_equal(route_hybrid(run, config), run.alerts["hybrid"])


def rule_names(alerts: pd.DataFrame) -> set[str]:
    return {name for joined in alerts["rules"] for name in joined.split(",") if name}


@pytest.mark.parametrize("rules", [True, False], ids=["hybrid", "model-alone"])
def test_a_higher_investigate_threshold_gives_no_more_model_alerts(replay, rules):
    config, run = replay
    counts = []
    for threshold in (50, 75, 90, 99):
        alerts = route_hybrid(run, config, investigate_confidence=threshold, rules=rules)
        assert list(alerts.columns) == ALERT_COLUMNS
        model = alerts[alerts["source"] != AlertSource.RULE]
        assert (model["confidence"] >= threshold).all(), threshold
        counts.append(len(model))
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


def test_the_rules_pages_do_not_depend_on_the_model_threshold(replay):
    config, run = replay
    low, high = (route_hybrid(run, config, investigate_confidence=t) for t in (50, 99.9))
    assert rule_names(low) == rule_names(high) == rule_names(run.alerts["hybrid"])
    assert ((high["rules"] != "") == (high["source"] != AlertSource.MODEL)).all()


def test_explain_alerts_returns_new_data_and_changes_nothing(replay):
    _, run = replay
    alerts = run.alerts["hybrid"]
    before_alerts = alerts.copy()
    before_run_alerts = {name: frame.copy() for name, frame in run.alerts.items()}
    before_shap = run.shap.copy()
    explained, _ = explain_alerts(run, alerts)
    pd.testing.assert_frame_equal(alerts, before_alerts)
    pd.testing.assert_frame_equal(run.shap, before_shap)
    assert list(run.alerts) == list(before_run_alerts)
    for name, frame in before_run_alerts.items():
        pd.testing.assert_frame_equal(run.alerts[name], frame)
    assert explained is not alerts and list(explained.columns) == ALERT_COLUMNS
    pd.testing.assert_frame_equal(explained.drop(columns="top_features"), alerts.drop(columns="top_features"))


def test_top_features_only_where_the_model_took_part(replay):
    _, run = replay
    alerts = run.alerts["hybrid"]
    explained, shap = explain_alerts(run, alerts)
    ruled = explained["source"] == AlertSource.RULE
    assert (explained.loc[ruled, "top_features"] == "").all()
    assert (explained.loc[~ruled, "top_features"] != "").all()
    # One row of SHAP values per explained alert, one column per feature.
    assert sorted(shap.index) == sorted(explained.loc[~ruled, "id"])
    assert shap.notna().all().all() and shap.shape[1] > 1
    # Each alert's top features, in words, start with one of the explained features.
    named = [FEATURE_NAMES.get(c, c) for c in shap.columns]
    assert explained.loc[~ruled, "top_features"].map(lambda s: any(s.startswith(n + " ") for n in named)).all()


def test_explaining_the_baseline_explains_nothing(replay):
    _, run = replay
    baseline = run.alerts["baseline"]
    explained, shap = explain_alerts(run, baseline)
    pd.testing.assert_frame_equal(explained, baseline)
    assert shap.empty
