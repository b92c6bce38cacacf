"""Service features, training and the three systems, on the 14-day sample project (built once)."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.errors import DataError
from workbench.features.context import remove_incidents
from workbench.features.service import ServiceFeatures
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.lifecycle.training import (
    describe_model,
    score_windows,
    train_latest,
    train_service,
)
from workbench.lifecycle.versions import list_versions, load_model, save_model
from workbench.sources import load_service
from workbench.workflows.evaluate import run_systems


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    """A 28-day sample: 14 days to learn, two weeks of verdicts."""
    from workbench.sources.sample import ensure_sample

    config = load_config(make_project(tmp_path_factory.mktemp("train") / "p", days=28, services=["checkout", "auth"]))
    ensure_sample(config)
    return config


@pytest.fixture(scope="session")
def checkout(project):
    windows = to_windows(load_service(project, "checkout"), project.window, project.max_fill)
    return windows, read_incidents(project.path("incidents")), read_events(project.path("events"))


@pytest.fixture(scope="session")
def model(project, checkout):
    windows, incidents, events = checkout
    return train_latest("checkout", windows, incidents, events, project.model)


def test_features_are_residuals_in_z_units(checkout):
    windows, _, events = checkout
    features = ServiceFeatures().fit(windows, events=events)
    X = features.transform(windows, events=events)
    assert {"error_rate_z", "cpu_excess_z", "memory_trend_z", "worst_z", "sustained_z", "hour", "campaign"} <= set(X.columns)
    z = X["request_rate_z"].dropna()
    raw = np.log1p(windows["request_rate"])
    assert abs(z.median()) < 0.5 and z.abs().quantile(0.95) < 5
    # The daily shape is removed: hour-of-day medians of z are flat, unlike the raw traffic's.
    by_hour = z.groupby(z.index.hour).median()
    assert by_hour.max() - by_hour.min() < 0.1 * (raw.groupby(raw.index.hour).median().pipe(lambda s: s.max() - s.min()) / z.abs().median() + 1)
    assert by_hour.abs().max() < 1


def test_features_need_a_week(checkout):
    windows, _, events = checkout
    with pytest.raises(DataError, match="7 days"):
        ServiceFeatures().fit(windows.iloc[: 96 * 3], events=events)


def test_incidents_are_kept_out_of_training(checkout, project):
    windows, incidents, _ = checkout
    mine = incidents[incidents["service"] == "checkout"]
    kept = remove_incidents(windows, mine, "1h", window=project.window)
    for inc in mine.itertuples():
        assert kept.loc[inc.start - pd.Timedelta("45min") : inc.end + pd.Timedelta("45min")].empty


def test_model_metadata_and_registry(project, model):
    facts = describe_model(model)
    assert facts["training windows"] > 1000 and facts["alarm confidence"] == 75.0
    assert not any("offset" in key or "raw" in key for key in facts)  # the forest's internals stay in the card
    path = save_model(project, model, facts)
    again = save_model(project, model, facts)
    assert path != again and len(list_versions(project, "checkout")) == 2  # versions, never overwritten
    loaded = load_model(project, "checkout")
    assert loaded.training_windows == model.training_windows


def test_too_little_history(project, checkout):
    windows, incidents, events = checkout
    with pytest.raises(DataError):
        train_service("checkout", windows.iloc[:200], incidents, events, project.model)


def test_gaps_get_no_verdict(model, checkout):
    windows, _, events = checkout
    holed = windows.copy()
    holed.iloc[-10:-5] = np.nan
    scores = score_windows(model, holed, events)
    assert scores["confidence"].iloc[-10:-5].isna().all() and not scores["anomalous"].iloc[-10:-5].any()


@pytest.fixture(scope="session")
def evaluation(project):
    return run_systems(project, explain_services=["checkout"])


def test_three_systems_compared(evaluation):
    results = evaluation.results
    assert set(results) == {"baseline", "model", "hybrid", "summary"}
    for name in ("baseline", "model", "hybrid"):
        assert {"alerts_per_week", "fp_share", "missed_incidents", "ttd_median_minutes"} <= set(results[name])
    assert evaluation.start == evaluation.runs["checkout"].windows.index[0] + pd.Timedelta("14D")
    # The old thresholds are noisy; the hybrid alerts far less.
    assert results["hybrid"]["alerts"] < results["baseline"]["alerts"] / 2


def test_all_nan_metric_is_named(checkout):
    windows, _, events = checkout
    broken = windows.assign(memory_usage=np.nan)
    with pytest.raises(DataError, match=r"\['memory_usage'\] have no values"):
        ServiceFeatures().fit(broken, events=events)


def test_metric_missing_at_scoring_is_named(model, checkout):
    windows, _, events = checkout
    with pytest.raises(DataError, match=r"\['cpu_usage'\] were in the training data"):
        score_windows(model, windows.drop(columns="cpu_usage"), events)


def test_constant_metric_is_handled(project, checkout):
    windows, incidents, events = checkout
    flat = windows.assign(memory_usage=42.0)
    model = train_latest("checkout", flat, incidents, events, project.model)
    scores = score_windows(model, flat, events)
    assert scores["confidence"].notna().mean() > 0.9
    assert np.isfinite(scores["confidence"].dropna()).all()


def test_a_metric_without_data_is_named_when_the_model_trains_without_it(checkout, project, recwarn):
    from workbench.errors import DataWarning

    windows, incidents, events = checkout
    # (An all-gap metric is an error at fitting: README "Bad input".) An absent one is named.
    with pytest.warns(DataWarning, match="checkout: no latency_p99 data: the model is trained without them"):
        model = train_service("checkout", windows.drop(columns=["latency_p99"]), incidents, events, project.model)
    assert not any("latency_p99" in name for name in model.metadata["feature_names"])
    recwarn.clear()
    train_service("checkout", windows, incidents, events, project.model)
    assert not [w for w in recwarn if issubclass(w.category, DataWarning)]
