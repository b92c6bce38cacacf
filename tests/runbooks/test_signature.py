"""Signatures: the documented layout, hand-made cases with known answers, the sample's kinds, bad input."""

import math

import numpy as np
import pandas as pd
import pytest

from workbench.contracts import CANONICAL_METRICS
from workbench.detect.explain import FEATURE_NAMES
from workbench.errors import DataError, DataWarning, ParameterError
from workbench.runbooks.signature import (
    BLOCKS,
    COLUMNS,
    META_COLUMNS,
    deviations,
    signature,
    signature_table,
)
from workbench.runbooks.similar import cause_kind
from workbench.sources.scenarios import INCIDENT_KINDS

MONDAY = pd.date_range("2026-10-05", periods=96, freq="15min", tz="UTC")


def at(hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-10-05T{hhmm}Z")


def zframe(**moves) -> pd.DataFrame:
    """A day of z per metric, 0 (usual) except ``metric=(first window, end, z)``."""
    z = pd.DataFrame(0.0, index=MONDAY, columns=list(CANONICAL_METRICS))
    for metric, (start, end, value) in moves.items():
        z.loc[(z.index >= at(start)) & (z.index < at(end)), metric] = value
    return z


# A hung dependency: p99 first, then p95 and errors together a window later.
SPIKE = zframe(latency_p99=("10:00", "10:45", 30.0), latency_p95=("10:15", "10:45", 10.0), error_rate=("10:15", "10:30", 4.0))
# Upstream misrouting: traffic falls, CPU follows a window later.
DROP = zframe(request_rate=("14:00", "15:00", -8.0), cpu_usage=("14:15", "15:00", -5.0))


def spike(**kwargs):
    return signature(SPIKE, "checkout", at("10:00"), at("10:45"), **kwargs)


def drop(**kwargs):
    return signature(DROP, "checkout", at("14:00"), at("15:00"), **kwargs)


def squash(z):
    return math.copysign(math.log1p(abs(z) / 3), z)


def cosine(a, b) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_layout_is_the_documented_one():
    assert COLUMNS[:4] == ("request_rate_worst", "request_rate_mean", "request_rate_direction", "request_rate_order")
    assert len(BLOCKS["metrics"]) == 4 * len(CANONICAL_METRICS)
    assert BLOCKS["shap"] == tuple(f"shap_{f}" for f in FEATURE_NAMES)
    assert BLOCKS["context"] == ("deploy_before", "campaign", "maintenance", "hour_sin", "hour_cos")
    assert BLOCKS["span"] == ("duration",)
    assert COLUMNS == tuple(c for cols in BLOCKS.values() for c in cols) and len(set(COLUMNS)) == len(COLUMNS) == 40
    assert list(spike().vector.index) == list(COLUMNS)


@pytest.mark.parametrize(
    ("case", "column", "expected"),
    [
        # The spike: p99 moved first and most, p95 and errors together a window later.
        (spike, "latency_p99_worst", squash(30)),
        (spike, "latency_p99_mean", squash(30)),
        (spike, "latency_p99_direction", 1.0),
        (spike, "latency_p99_order", 1.0),
        (spike, "latency_p95_worst", squash(10)),
        (spike, "latency_p95_mean", squash(20 / 3)),  # 0, 10, 10 over the three windows
        (spike, "latency_p95_order", 0.5),
        (spike, "error_rate_direction", 1.0),
        (spike, "error_rate_order", 0.5),
        (spike, "request_rate_direction", 0.0),
        (spike, "request_rate_worst", 0.0),
        (spike, "duration", math.log2(0.75)),
        # The drop: traffic down first, CPU down after; latency untouched.
        (drop, "request_rate_worst", squash(-8)),
        (drop, "request_rate_direction", -1.0),
        (drop, "request_rate_order", 1.0),
        (drop, "cpu_usage_direction", -1.0),
        (drop, "cpu_usage_order", 0.5),
        (drop, "cpu_usage_mean", squash(-5 * 3 / 4)),
        (drop, "latency_p99_direction", 0.0),
        (drop, "duration", 0.0),
        # Hour of day on the unit circle.
        (drop, "hour_sin", math.sin(2 * math.pi * 14 / 24)),
        (drop, "hour_cos", math.cos(2 * math.pi * 14 / 24)),
    ],
)
def test_hand_made_cases_give_the_documented_values(case, column, expected):
    assert case().vector[column] == pytest.approx(expected)


def test_a_latency_spike_and_a_traffic_drop_are_told_apart():
    a, b = spike().vector[list(BLOCKS["metrics"])].to_numpy(), drop().vector[list(BLOCKS["metrics"])].to_numpy()
    assert cosine(a, b) == pytest.approx(0.0, abs=1e-12)  # no metric in common
    bigger = signature(SPIKE * 3, "checkout", at("10:00"), at("10:45")).vector[list(BLOCKS["metrics"])].to_numpy()
    assert cosine(a, bigger) > 0.95  # the same pattern, larger: still alike


def test_metrics_that_move_in_the_same_window_share_a_rank():
    z = zframe(error_rate=("10:00", "11:00", 9.0), latency_p95=("10:00", "11:00", 5.0), cpu_usage=("10:30", "11:00", 4.0))
    v = signature(z, "checkout", at("10:00"), at("11:00")).vector
    assert (v["error_rate_order"], v["latency_p95_order"], v["cpu_usage_order"], v["memory_usage_order"]) == (1.0, 1.0, 0.5, 0.0)


def test_the_threshold_decides_what_moved():
    z = zframe(memory_usage=("10:00", "11:00", 3.5))
    assert signature(z, "checkout", at("10:00"), at("11:00"), threshold=3).vector["memory_usage_direction"] == 1.0
    assert signature(z, "checkout", at("10:00"), at("11:00"), threshold=4).vector["memory_usage_direction"] == 0.0


def test_a_missing_metric_gives_zeros_and_says_so():
    z = SPIKE.drop(columns="memory_usage")
    z.loc[:, "latency_p95"] = np.nan  # a gap over the whole span
    sig = signature(z, "checkout", at("10:00"), at("10:45"))
    assert sig.missing == ("latency_p95", "memory_usage")
    assert any("no data for latency_p95, memory_usage in the span: their columns are zeros" in note for note in sig.notes)
    assert not sig.vector.isna().any()
    assert (sig.vector[[c for c in COLUMNS if c.startswith(("memory_usage", "latency_p95"))]] == 0).all()
    assert sig.vector["latency_p99_direction"] == 1.0  # the others are as before


def test_a_short_gap_inside_the_span_uses_the_windows_there_are():
    z = SPIKE.copy()
    z.loc[at("10:15"), "latency_p99"] = np.nan
    sig = signature(z, "checkout", at("10:00"), at("10:45"))
    assert sig.missing == () and sig.vector["latency_p99_worst"] == pytest.approx(squash(30))


EVENTS = pd.DataFrame(
    {
        "start": pd.to_datetime(["2026-10-05T13:30Z", "2026-10-05T12:00Z", "2026-10-05T13:50Z", "2026-10-05T09:00Z"]),
        "end": pd.to_datetime(["2026-10-05T13:35Z", "2026-10-05T12:05Z", "2026-10-05T13:55Z", "2026-10-05T18:00Z"]),
        "service": ["checkout", "checkout", "search", "*"],
        "type": ["deploy", "deploy", "deploy", "campaign"],
        "description": ["release", "older release", "another service's release", "site-wide sale"],
    }
)


@pytest.mark.parametrize(
    ("service", "start", "lookback", "deploy", "campaign"),
    [
        ("checkout", "14:00", "1h", 1.0, 1.0),  # its own deploy 30 min before; the sale is site-wide
        ("checkout", "14:00", "20min", 0.0, 1.0),  # the deploy is older than the lookback
        ("payments", "14:00", "1h", 0.0, 1.0),  # another service's deploy does not count
        ("checkout", "19:00", "1h", 0.0, 0.0),  # after the sale, long after the deploy
    ],
)
def test_context_comes_from_the_events_of_the_service_and_of_star(service, start, lookback, deploy, campaign):
    end = (at(start) + pd.Timedelta("30min")).strftime("%H:%M")
    v = signature(DROP, service, at(start), at(end), events=EVENTS, lookback=lookback).vector
    assert (v["deploy_before"], v["campaign"], v["maintenance"]) == (deploy, campaign, 0.0)


def test_top_features_as_names_or_as_explainer_dicts():
    names = spike(top_features=["latency_p99_z", "error_rate_z"]).vector
    assert (names["shap_latency_p99_z"], names["shap_error_rate_z"], names["shap_cpu_usage_z"]) == (1.0, 0.5, 0.0)
    top = [{"feature": "latency_p99_z", "value": 31.0, "contribution": -2.1, "direction": "above usual"}]
    assert spike(top_features=top).vector["shap_latency_p99_z"] == 1.0
    # One list per window (Explainer.top for several windows): summed, the largest scaled to 1.
    windows = spike(top_features=[["latency_p99_z", "error_rate_z"], ["error_rate_z"]]).vector
    assert (windows["shap_error_rate_z"], windows["shap_latency_p99_z"]) == (1.0, pytest.approx(2 / 3))
    assert (spike().vector[list(BLOCKS["shap"])] == 0).all()
    assert spike(top_features="error_rate_z").vector["shap_error_rate_z"] == 1.0  # one name, bare
    assert spike(top_features=top[0]).vector["shap_latency_p99_z"] == 1.0  # one dict, bare


def test_an_unknown_top_feature_is_left_out_and_said():
    sig = spike(top_features=["latency_p99_z", "queue_depth_z"])
    assert sig.vector["shap_latency_p99_z"] == 1.0
    assert any("queue_depth_z" in note for note in sig.notes)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"top_features": [3]}, DataError, "a name or a dict"),
        ({"top_features": [{"value": 3.0}]}, DataError, "a name or a dict"),
        ({"threshold": 0}, ParameterError, "threshold"),
        ({"threshold": float("nan")}, ParameterError, "threshold"),
        ({"threshold": "3"}, ParameterError, "threshold"),
        ({"lookback": "an hour"}, ParameterError, "lookback"),
        ({"lookback": "-1h"}, ParameterError, "lookback"),
        ({"events": EVENTS.drop(columns="type")}, DataError, "missing \\['type'\\]"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        spike(**kwargs)


def test_a_bad_span_is_refused():
    with pytest.raises(DataError, match="not after start"):
        signature(SPIKE, "checkout", at("10:45"), at("10:00"))
    with pytest.raises(DataError, match="no windows between"):
        signature(SPIKE, "checkout", pd.Timestamp("2026-11-01T10:00Z"), pd.Timestamp("2026-11-01T11:00Z"))
    with pytest.raises(DataError, match="DatetimeIndex"):
        signature(SPIKE.reset_index(drop=True), "checkout", at("10:00"), at("10:45"))
    with pytest.raises(DataError, match="cannot parse"):
        signature(SPIKE, "checkout", "not a time", at("10:45"))


def test_a_table_has_the_metadata_then_the_vector_and_says_what_it_left_out():
    incidents = pd.DataFrame(
        {
            "id": ["INC-1", "INC-2", "INC-3", "INC-4"],
            "service": ["checkout", "checkout", "search", "checkout"],
            "start": [at("10:00"), at("14:00"), at("10:00"), pd.Timestamp("2026-12-01T10:00Z")],
            "end": [at("10:45"), at("15:00"), at("10:45"), pd.Timestamp("2026-12-01T11:00Z")],
            "cause": ["latency_spike: hung pool", np.nan, "x", "y"],
            "resolution": ["pool recycled", "routing fixed", "x", "y"],
        }
    )
    with pytest.warns(DataWarning, match=r"INC-3 \(search\), INC-4 \(checkout\)"):
        table = signature_table(incidents, {"checkout": SPIKE + DROP}, top_features={"INC-1": ["latency_p99_z"]})
    assert list(table.index) == ["INC-1", "INC-2"] and table.index.name == "id"
    assert list(table.columns) == [*META_COLUMNS, *COLUMNS]
    assert table.loc["INC-2", "cause"] == "" and table.loc["INC-1", "shap_latency_p99_z"] == 1.0
    assert table.loc["INC-2", "request_rate_direction"] == -1.0
    with pytest.raises(DataError, match="missing \\['end'\\]"):
        signature_table(incidents.drop(columns="end"), {"checkout": SPIKE})


# -- the bundled sample ------------------------------------------------------------------


def test_the_sample_incidents_have_causes_and_resolutions(sample_history):
    incidents = sample_history.incidents
    assert len(incidents) >= 7
    assert (incidents["cause"].str.strip() != "").all() and (incidents["resolution"].str.strip() != "").all()
    assert set(incidents["cause"].map(cause_kind)) <= set(INCIDENT_KINDS)


#: What each sample kind does to the metrics (workbench.sources.scenarios), as signature columns.
KIND_SHOWS = {
    "error_burst": lambda v: v["error_rate_direction"] == 1,
    "partial_outage": lambda v: v["error_rate_direction"] == 1,
    "latency_spike": lambda v: v["latency_p99_direction"] == 1 and v["latency_p99_worst"] > squash(10),
    "latency_creep": lambda v: v["latency_p95_worst"] > 0 and v["latency_p95_mean"] > 0,
    "night_cpu_saturation": lambda v: v["cpu_usage_direction"] == 1 and v["hour_cos"] > 0.5,
    "memory_leak": lambda v: v["memory_usage_direction"] == 1 and v["duration"] >= 2,
    "traffic_drop": lambda v: v["request_rate_worst"] < 0 and v["request_rate_mean"] < 0,
}


def test_each_sample_kind_shows_in_its_signature(sample_history):
    table = sample_history.table
    assert len(table) == len(sample_history.incidents) and not table[list(COLUMNS)].isna().any().any()
    for incident_id, row in table.iterrows():
        kind = cause_kind(row["cause"])
        assert KIND_SHOWS[kind](row), f"{incident_id} ({kind}): {row[list(BLOCKS['metrics'])].round(2).to_dict()}"


def test_a_metric_the_windows_lack_is_a_gap_with_the_fitted_baseline(sample_history):
    service, row = next((r.service, r) for r in sample_history.incidents.itertuples() if cause_kind(r.cause) == "memory_leak")
    windows = sample_history.windows[service].drop(columns="memory_usage")
    z = deviations(sample_history.baselines[service], windows)
    assert z["memory_usage"].isna().all()
    sig = signature(z, service, row.start, row.end, id=row.id)
    assert sig.missing == ("memory_usage",) and not sig.vector.isna().any()
    assert sig.vector["memory_usage_direction"] == 0.0
