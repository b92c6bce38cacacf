"""Similar past incidents: exact cosine neighbours, ties, self-exclusion, calibrated abstention, bad input."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cosine
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from workbench.errors import DataError, ParameterError
from workbench.runbooks.signature import BLOCKS, COLUMNS, META_COLUMNS, signature
from workbench.runbooks.similar import Retrieval, SimilarIncidents, cause_kind

SPIKE = {"latency_p99_worst": 2.4, "latency_p99_mean": 2.0, "latency_p99_direction": 1, "latency_p99_order": 1, "error_rate_worst": 0.8, "error_rate_order": 0.5}
DROP = {"request_rate_worst": -1.5, "request_rate_mean": -1.2, "request_rate_direction": -1, "request_rate_order": 1, "cpu_usage_worst": -0.9, "cpu_usage_order": 0.5}
CPU = {"cpu_usage_worst": 2.2, "cpu_usage_mean": 1.9, "cpu_usage_direction": 1, "cpu_usage_order": 1, "latency_p95_worst": 0.6}
LEAK = {"memory_usage_worst": 2.0, "memory_usage_mean": 1.1, "memory_usage_direction": 1, "memory_usage_order": 1}


def vary(pattern: dict, k: int) -> dict:
    """The pattern, a little different for each k (larger, with a little noise elsewhere)."""
    rng = np.random.default_rng(k)
    out = {c: v * (1 + 0.1 * k) for c, v in pattern.items()}
    for column in rng.choice([c for c in BLOCKS["metrics"] if c.endswith("_worst") and c not in pattern], 2, replace=False):
        out[column] = float(rng.normal(0, 0.15))
    return out


def table(*rows) -> pd.DataFrame:
    """A signature table from ``(id, service, cause, resolution, {column: value})`` rows."""
    records = []
    for incident_id, service, cause, resolution, values in rows:
        start = pd.Timestamp("2026-10-01T10:00Z")
        meta = {"id": incident_id, "service": service, "start": start, "end": start + pd.Timedelta("30min"), "cause": cause, "resolution": resolution, "missing": ""}
        records.append(meta | dict.fromkeys(COLUMNS, 0.0) | values)
    return pd.DataFrame(records).set_index("id")[list(META_COLUMNS) + list(COLUMNS)]


HISTORY = table(
    ("INC-0001", "checkout", "latency_spike: hung pool", "connection pool recycled", vary(SPIKE, 0)),
    ("INC-0002", "search", "latency_spike: DNS timeouts", "resolver restarted", vary(SPIKE, 1)),
    ("INC-0003", "payments", "latency_spike: lock contention", "query killed", vary(SPIKE, 2)),
    ("INC-0004", "checkout", "traffic_drop: LB misrouting", "routing rule fixed", vary(DROP, 3)),
    ("INC-0005", "catalog", "traffic_drop: CDN edge", "CDN config reverted", vary(DROP, 4)),
    ("INC-0006", "search", "traffic_drop: client bug", "client hotfix", vary(DROP, 5)),
    ("INC-0007", "checkout", "night_cpu_saturation: runaway batch job", "batch job killed", vary(CPU, 6)),
    ("INC-0008", "auth", "night_cpu_saturation: cron re-index", "batch job killed; job rescheduled with limits", vary(CPU, 7)),
)


def query(values: dict, service: str = "checkout", incident_id: str = "NEW") -> pd.DataFrame:
    return table((incident_id, service, "", "", values))


@pytest.fixture(scope="module")
def fitted() -> SimilarIncidents:
    return SimilarIncidents(n_neighbors=3).fit(HISTORY)


def test_similarity_is_one_minus_the_cosine_distance(fitted):
    q = vary(SPIKE, 9)
    sims, rows = fitted.kneighbors(query(q))
    vector = query(q)[list(COLUMNS)].to_numpy()[0]
    expected = [1 - cosine(vector, HISTORY[list(COLUMNS)].to_numpy()[r]) for r in rows[0]]
    assert sims[0] == pytest.approx(expected)
    assert list(sims[0]) == sorted(sims[0], reverse=True)
    assert [fitted.kinds_[r] for r in rows[0]] == ["latency_spike"] * 3


def test_a_known_kind_gets_its_kind_with_cause_and_resolution(fitted):
    answer = fitted.query(signature_of(vary(DROP, 8)))
    assert not answer.abstained and answer.threshold == fitted.threshold_
    assert [m.kind for m in answer.matches] == ["traffic_drop"] * 3
    best = answer.matches[0]
    assert (best.cause, best.resolution) == tuple(HISTORY.loc[best.id, ["cause", "resolution"]])
    assert answer.message.startswith(f"the closest past incident is {best.id}")


def signature_of(values: dict):
    """A Signature object carrying ``values`` (what the workflow hands over for a live episode)."""
    z = pd.DataFrame(0.0, index=pd.date_range("2026-10-05", periods=8, freq="15min", tz="UTC"), columns=["error_rate"])
    sig = signature(z, "checkout", z.index[0], z.index[2], id="EP-1")
    return type(sig)(sig.service, sig.start, sig.end, pd.Series(dict.fromkeys(COLUMNS, 0.0) | values), id="EP-1")


def test_a_kind_never_seen_gets_no_similar_past_incident(fitted):
    answer = fitted.retrieve(query(LEAK))[0]
    assert answer.abstained and answer.matches == ()
    assert len(answer.nearest) == 3  # what was closest is still shown
    assert answer.message.startswith("no similar past incident: the closest is")
    assert f"below the threshold {fitted.threshold_:.2f}" in answer.message


def test_the_threshold_is_calibrated_between_the_kinds(fitted):
    record = fitted.calibration_
    assert record["balanced_accuracy"] == 1.0 and record["same_kind_pairs"] == 8
    assert 0 < fitted.threshold_ < 1


def test_an_incident_is_never_its_own_neighbour(fitted):
    sims, rows = fitted.kneighbors(HISTORY)
    for incident_id, found in zip(HISTORY.index, rows):
        assert incident_id not in fitted.ids_[found]
    for answer in fitted.retrieve(HISTORY):
        assert answer.id not in [m.id for m in answer.nearest]
        assert len(answer.nearest) == 3


def test_ties_put_the_same_service_first_then_ids_in_order():
    same = vary(SPIKE, 0)
    services = ["auth", "catalog", "checkout", "payments", "search", "notifications"]
    history = table(*[(f"INC-{k:04d}", s, "latency_spike: x", "restarted", same) for k, s in enumerate(services, start=1)])
    index = SimilarIncidents(n_neighbors=2, threshold=0.5).fit(history)
    # Six equal similarities, more than the first look fetches: the query's service still comes first.
    first = index.retrieve(query(same, service="notifications"))[0]
    assert [m.id for m in first.matches] == ["INC-0006", "INC-0001"]
    assert index.retrieve(query(same, service="billing"))[0].matches[0].id == "INC-0001"


def test_the_kind_is_a_function_of_the_cause():
    free_text = HISTORY.assign(cause=["pool hung", "DNS slow", "db locks", "LB bug", "CDN bug", "client bug", "batch job ran away", "cron stuck"])
    # By default the whole free text is the kind: no two share one, nothing to calibrate on.
    assert SimilarIncidents().fit(free_text).threshold_ == math.inf

    def by_row(cause: str) -> str:
        return {"pool hung": "latency", "DNS slow": "latency", "db locks": "latency", "batch job ran away": "cpu", "cron stuck": "cpu"}.get(cause, "traffic")

    index = SimilarIncidents(kind=by_row).fit(free_text)
    assert math.isfinite(index.threshold_) and index.calibration_["same_kind_pairs"] == 8
    assert index.query(signature_of(vary(CPU, 9))).matches[0].kind == "cpu"


def test_a_history_that_cannot_calibrate_abstains_and_says_why():
    index = SimilarIncidents().fit(HISTORY.iloc[[0]])
    answer = index.retrieve(query(vary(SPIKE, 1)))[0]
    assert answer.abstained and index.threshold_ == math.inf
    assert "fewer than two past incidents" in answer.message
    assert json.loads(json.dumps(answer.as_dict()))["threshold"] is None


def test_a_block_no_past_incident_has_is_not_compared():
    index = SimilarIncidents(threshold=0.0).fit(HISTORY)
    assert not set(BLOCKS["shap"]) & set(index.columns_)
    plain = vary(SPIKE, 9)
    with_shap = plain | {"shap_latency_p99_z": 1.0, "shap_error_rate_z": 0.5}
    a, b = index.retrieve(query(plain))[0], index.retrieve(query(with_shap))[0]
    assert [m.similarity for m in a.nearest] == [m.similarity for m in b.nearest]


def test_weights_set_how_much_each_block_counts():
    night, day = {"hour_sin": 0.0, "hour_cos": 1.0}, {"hour_sin": 0.0, "hour_cos": -1.0}
    history = table(("INC-0001", "auth", "a: x", "y", vary(CPU, 0) | night), ("INC-0002", "auth", "a: x", "y", vary(CPU, 0) | day))
    q = query(vary(CPU, 0) | night, service="auth")
    blind = SimilarIncidents(n_neighbors=2, threshold=0.0, weights={"context": 0}).fit(history).retrieve(q)[0]
    assert blind.nearest[0].similarity == blind.nearest[1].similarity == pytest.approx(1.0)
    seeing = SimilarIncidents(n_neighbors=2, threshold=0.0, weights={"context": 1}).fit(history).retrieve(q)[0]
    assert seeing.nearest[0].id == "INC-0001" and seeing.nearest[1].similarity < 0.9


def test_a_given_threshold_is_used_as_given():
    index = SimilarIncidents(threshold=0.999).fit(HISTORY)
    assert index.threshold_ == 0.999 and index.calibration_["how"] == "given"
    assert index.retrieve(query(vary(SPIKE, 9)))[0].abstained


def test_it_follows_the_estimator_conventions(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "nn_")
    with pytest.raises(NotFittedError):
        SimilarIncidents().retrieve(HISTORY)
    assert isinstance(fitted.retrieve(HISTORY.iloc[[0]])[0], Retrieval)


def test_an_array_query_of_the_right_length_works(fitted):
    vector = query(vary(DROP, 9))[list(COLUMNS)].to_numpy()[0]
    sims, rows = fitted.kneighbors(vector, n_neighbors=5)
    assert fitted.kinds_[rows[0][0]] == "traffic_drop" and len(rows[0]) == 5


@pytest.mark.parametrize("k", [0, -2, 1.5])
def test_a_bad_number_of_neighbours_in_a_query_is_refused(fitted, k):
    with pytest.raises(ParameterError, match="n_neighbors"):
        fitted.kneighbors(HISTORY, n_neighbors=k)


@pytest.mark.parametrize(
    ("history", "match"),
    [
        (HISTORY.iloc[:0], "history is empty"),
        (HISTORY.drop(columns="cause"), "missing \\['cause'\\]"),
        (HISTORY.drop(columns="duration"), "not a signature table"),
        (HISTORY.assign(duration=np.nan), "NaN"),
        (pd.concat([HISTORY, HISTORY.iloc[[0]]]), "repeated ids"),
        (HISTORY[list(COLUMNS)].to_numpy(), "must be a signature table"),
        (HISTORY.assign(**dict.fromkeys(COLUMNS, 0.0)), "all zeros"),
    ],
)
def test_bad_history_is_refused(history, match):
    with pytest.raises(DataError, match=match):
        SimilarIncidents().fit(history)


@pytest.mark.parametrize(
    "params",
    [
        {"n_neighbors": 0},
        {"n_neighbors": 2.5},
        {"n_neighbors": True},
        {"threshold": 1.5},
        {"threshold": "0.8"},
        {"calibration": "closest"},
        {"weights": {"metric": 1.0}},
        {"weights": {"context": -1}},
        {"kind": "cause"},
    ],
)
def test_bad_parameters_are_refused(params):
    with pytest.raises(ParameterError):
        SimilarIncidents(**params).fit(HISTORY)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros(len(COLUMNS) - 1), f"vectors of length {len(COLUMNS) - 1}, a signature has {len(COLUMNS)}"),
        (np.zeros((2, len(COLUMNS) + 3)), "vectors of length"),
        (HISTORY.drop(columns="latency_p99_worst"), "not a signature table"),
        (HISTORY.assign(latency_p99_worst=np.inf), "NaN or infinite"),
        (HISTORY.iloc[:0], "query is empty"),
    ],
)
def test_bad_queries_are_refused(fitted, bad, match):
    with pytest.raises(DataError, match=match):
        fitted.retrieve(bad)


@pytest.mark.parametrize(
    ("cause", "kind"),
    [("night_cpu_saturation: runaway batch job", "night_cpu_saturation"), ("Disk Full", "disk full"), ("", ""), (None, ""), (float("nan"), "")],
)
def test_cause_kind(cause, kind):
    assert cause_kind(cause) == kind


# -- the bundled sample ------------------------------------------------------------------


def test_on_the_sample_one_incident_per_kind_means_nothing_is_similar(sample_history):
    # The 14-day sample has one incident of each kind: no match can be vouched for.
    table = sample_history.table
    index = SimilarIncidents().fit(table)
    assert len(set(index.kinds_)) == len(table)
    answers = index.retrieve(table)
    assert all(a.abstained and "no two past incidents share a kind" in a.message for a in answers)
    assert all(a.id not in [m.id for m in a.nearest] for a in answers)
