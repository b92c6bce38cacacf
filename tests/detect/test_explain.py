"""SHAP top features for a small Isolation Forest detector, and their one-line format."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.detect.explain import Explainer, format_top
from workbench.detect.forest import IsolationForestDetector

FEATURES = ["request_rate_z", "error_rate_z", "latency_p99_z", "memory_usage_z"]


@pytest.fixture(scope="session")
def detector():
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(600, len(FEATURES))), columns=FEATURES)
    return IsolationForestDetector(n_estimators=40, confidence_period=96, random_state=0).fit(train)


@pytest.fixture()
def frame():
    """Five ordinary rows; row 1 has a huge error rate, row 3 very low memory."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(scale=0.3, size=(5, len(FEATURES))), columns=FEATURES, index=pd.date_range("2026-01-05", periods=5, freq="15min", tz="UTC"))
    X.iloc[1, FEATURES.index("error_rate_z")] = 12.0
    X.iloc[3, FEATURES.index("memory_usage_z")] = -9.0
    return X


@pytest.fixture(scope="session")
def explainer(detector):
    return Explainer(detector, FEATURES)


def test_the_anomalous_column_comes_first(explainer, frame):
    top = explainer.top(frame, k=3)
    assert len(top) == len(frame)
    first = top[1][0]
    assert first["feature"] == "error_rate_z"
    assert first["value"] == 12.0 and first["direction"] == "above usual"
    assert first["contribution"] < 0
    assert top[3][0]["feature"] == "memory_usage_z"
    assert top[3][0]["value"] == -9.0 and top[3][0]["direction"] == "below usual"


def test_top_is_ordered_negative_and_at_most_k(explainer, frame):
    for k in (1, 2, 4):
        for row in explainer.top(frame, k=k):
            assert len(row) <= k
            contributions = [t["contribution"] for t in row]
            assert contributions == sorted(contributions)  # hardest push first
            assert all(c < 0 for c in contributions)  # only pushes towards anomalous
            assert len({t["feature"] for t in row}) == len(row)
    assert len(explainer.top(frame.iloc[[1]], k=1)[0]) == 1


def test_shap_values_push_the_outlier_towards_anomalous(explainer, frame):
    values = explainer.shap_values(frame)
    assert values.shape == (5, len(FEATURES))
    j = FEATURES.index("error_rate_z")
    assert values[1, j] == values[1].min() < 0
    # The outlier's path is much shorter: its contributions sum far below an ordinary row's.
    assert values[1].sum() < values[0].sum() - 1


def test_explaining_does_not_mutate_the_input(explainer, frame):
    before = frame.copy(deep=True)
    values = explainer.shap_values(frame)
    top = explainer.top(frame)
    pd.testing.assert_frame_equal(frame, before)
    values[:] = 0.0  # the caller owns what it gets back
    assert explainer.top(frame) == top
    assert explainer.shap_values(frame).min() < 0


def test_columns_are_taken_by_name(explainer, frame):
    shuffled = frame[FEATURES[::-1]].assign(hour=7.0, campaign=1.0)
    assert explainer.top(shuffled) == explainer.top(frame)
    np.testing.assert_allclose(explainer.shap_values(shuffled), explainer.shap_values(frame))


def test_the_shap_explainer_is_built_on_first_use(detector, frame):
    fresh = Explainer(detector, FEATURES)
    assert fresh._tree is None
    fresh.shap_values(frame.iloc[:1])
    tree = fresh._tree
    assert tree is not None
    fresh.shap_values(frame)
    assert fresh._tree is tree  # built once


@pytest.mark.parametrize(
    "top, expected",
    [
        ([], ""),
        (
            [{"feature": "error_rate_z", "value": 31.24, "contribution": -2.1, "direction": "above usual"}],
            "error rate far above its usual level (z +31.2)",
        ),
        (
            [
                {"feature": "memory_usage_z", "value": -4.0, "contribution": -1.0, "direction": "below usual"},
                {"feature": "cpu_excess_z", "value": 0.04, "contribution": -0.1, "direction": "above usual"},
            ],
            "memory well below its usual level (z -4.0); CPU beyond what the traffic explains above its usual level (z +0.0)",
        ),
        # A feature without words keeps its name, without the z suffix.
        ([{"feature": "queue_depth_z", "value": 2, "contribution": -0.5, "direction": "above usual"}], "queue depth above its usual level (z +2.0)"),
    ],
)
def test_format_top(top, expected):
    assert format_top(top) == expected


@pytest.mark.parametrize(
    "when, slot",
    [
        (pd.Timestamp("2026-10-20 14:15", tz="UTC"), "a weekday 14:15"),  # a Tuesday
        (pd.Timestamp("2026-10-25 03:45", tz="UTC"), "a weekend 03:45"),  # a Sunday
    ],
)
def test_format_top_names_the_slot_once(when, slot):
    top = [
        {"feature": "latency_p95_z", "value": 12.0, "contribution": -2.0, "direction": "above usual"},
        {"feature": "request_rate_z", "value": -5.0, "contribution": -1.0, "direction": "below usual"},
    ]
    assert format_top(top, when=when) == (
        f"latency p95 far above its usual level for {slot} (z +12.0); request rate well below its usual level (z -5.0)"
    )


def test_format_top_of_a_real_explanation(explainer, frame):
    top = explainer.top(frame, k=2)[1]
    line = format_top(top)
    assert line.startswith("error rate far above its usual level (z +12.0)")
    assert line.count("(z ") == len(top)
