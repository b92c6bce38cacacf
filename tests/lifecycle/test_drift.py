"""Drift checks: PSI, the reference profile, false alarms on stationary sample data, and power."""

import json

import numpy as np
import pandas as pd
import pytest

from workbench.contracts import to_wide
from workbench.errors import DataError
from workbench.features.windows import to_windows
from workbench.lifecycle.drift import (
    MIN_WINDOWS,
    Bins,
    DriftReference,
    DriftStatus,
    check_drift,
    effective_size,
    promised_alarm_rate,
    psi,
)
from workbench.lifecycle.training import model_matrix, train_service, training_windows
from workbench.settings import DriftSettings, ModelSettings, SampleSettings
from workbench.sources.sample import generate

SETTINGS = DriftSettings()
DAY = 96  # 15-minute windows
SERVICES = ["checkout", "payments"]  # the first two configured services, not picked by outcome
FEATURES = [f"f{i}" for i in range(10)]


def frame(values, start="2026-01-05", columns=FEATURES) -> pd.DataFrame:
    index = pd.date_range(start, periods=len(values), freq="15min", tz="UTC")
    return pd.DataFrame(values, index=index, columns=columns)


@pytest.fixture(scope="module")
def gaussian():
    """A reference from 30 days of i.i.d. N(0, 1) features and exponential-ish scores (promise 1 %)."""
    rng = np.random.default_rng(1)
    X = frame(rng.normal(size=(30 * DAY, len(FEATURES))))
    return DriftReference.from_training(X, -rng.exponential(0.4, len(X)), alarm_rate=0.01)


def gaussian_day(seed: int, shift: dict | None = None, days: int = 1):
    rng = np.random.default_rng(seed)
    X = frame(rng.normal(size=(days * DAY, len(FEATURES))), start="2026-03-02")
    for name, by in (shift or {}).items():
        X[name] += by
    return X, -rng.exponential(0.4, len(X))


# -- PSI ----------------------------------------------------------------------------------


def deciles(values) -> Bins:
    return Bins.fit(values, np.arange(len(values)) * 10 // len(values))  # ten spans


def counts(bins: Bins, values) -> np.ndarray:
    return np.bincount(np.searchsorted(bins.edges, values, side="left"), minlength=len(bins.counts))


@pytest.mark.parametrize(
    "shift, low, high",
    [
        (0.0, 0.0, 0.002),  # identical distributions
        (1.0, 0.89, 0.96),  # N(1, 1) vs N(0, 1) over deciles: 0.926 exactly (1.0 with fine bins)
    ],
)
def test_psi_known_values(shift, low, high):
    rng = np.random.default_rng(0)
    bins = deciles(rng.normal(size=200_000))
    assert low <= psi(bins.counts, counts(bins, rng.normal(shift, 1, 200_000))) <= high


def test_psi_grows_with_the_shift():
    rng = np.random.default_rng(0)
    bins = deciles(rng.normal(size=100_000))
    values = [psi(bins.counts, counts(bins, rng.normal(s, 1, 100_000))) for s in (0, 0.25, 0.5, 1, 1.5, 2)]
    assert values == sorted(values) and values[0] < 0.01 < values[1]


def test_effective_size_discounts_autocorrelation():
    rng = np.random.default_rng(0)
    white = rng.normal(size=2000)
    ar = np.zeros(2000)
    for t in range(1, 2000):
        ar[t] = 0.9 * ar[t - 1] + white[t]
    assert effective_size(white) > 1800
    assert 2000 * 0.1 / 1.9 * 0.7 < effective_size(ar) < 2000 * 0.1 / 1.9 * 1.4  # (1 - rho) / (1 + rho)
    assert effective_size(np.ones(50)) == 50


# -- the reference --------------------------------------------------------------------------


def test_reference_round_trips_through_json(gaussian, service_data):
    for reference in (gaussian, service_data["checkout"]["reference"]):
        again = DriftReference.from_dict(json.loads(json.dumps(reference.as_dict(), allow_nan=False)))
        assert again == reference and list(again.features) == list(reference.features)


def test_ties_constants_and_nan_in_training():
    rng = np.random.default_rng(2)
    n = 30 * DAY
    X = frame(np.c_[np.zeros(n), np.where(rng.random(n) < 0.9, 0.0, rng.exponential(1, n)), rng.normal(size=n)], columns=["flat", "mostly_zero", "noisy"])
    X.iloc[::7, 2] = np.nan
    reference = DriftReference.from_training(X, -rng.exponential(0.4, n), alarm_rate=0.01)
    # A value holding a bin's worth of data gets a bin of its own: below, at, and above it.
    assert reference.features["flat"].edges == (np.nextafter(0.0, -1), 0.0)
    assert reference.features["mostly_zero"].counts[1] > 0.85 * n
    assert sum(reference.features["noisy"].counts) == n - len(range(0, n, 7))
    same = check_drift(reference, X.iloc[:DAY], -rng.exponential(0.4, DAY), np.zeros(DAY, bool), SETTINGS)
    # Smoothing alone gives an unchanged constant a PSI of ~0.04 on one day's windows: below a warning.
    assert same.features.set_index("feature").loc["flat", "psi"] < SETTINGS.psi_warn
    moved = X.iloc[:DAY].assign(flat=0.5)
    check = check_drift(reference, moved, -rng.exponential(0.4, DAY), np.zeros(DAY, bool), SETTINGS)
    assert check.features.iloc[0]["feature"] == "flat" and check.features.iloc[0]["status"] == DriftStatus.ACT


# -- stationary sample data: at most one acting alarm per 30 days per service ------------------


@pytest.fixture(scope="module")
def service_data():
    """Per service: a model trained on the first 30 days of a drift-free sample, its reference,
    and the model's features and scores of the following 30 days, labelled incidents and
    planned events left out (as the drift workflow does)."""
    data = generate(SampleSettings(seed=7, drift=False, days=60), SERVICES)
    settings = ModelSettings()
    out = {}
    for service in SERVICES:
        windows = to_windows(to_wide(data.metrics, service), "15min", "5min")
        cut = windows.index[0] + pd.Timedelta("30D")
        past = windows[windows.index < cut]
        model = train_service(service, past, data.incidents, data.events, settings)
        normal = training_windows(service, past, data.incidents, data.events, settings).notna().any(axis=1).to_numpy()
        X_train = model_matrix(model.features.transform(past, events=data.events))[normal].dropna()
        reference = DriftReference.from_training(X_train, model.training_raw, promised_alarm_rate(model.detector), span=SETTINGS.span)
        clean = training_windows(service, windows, data.incidents, data.events, settings).notna().any(axis=1).to_numpy()
        X = model_matrix(model.features.transform(windows, events=data.events))[clean & (windows.index >= cut)].dropna()
        out[service] = {"model": model, "reference": reference, "X_train": X_train, "X": X, "cut": cut}
    return out


def day_of(entry, day: int) -> pd.DataFrame:
    start = entry["cut"] + pd.Timedelta(days=day)
    X = entry["X"]
    return X[(X.index >= start) & (X.index < start + pd.Timedelta("1D"))]


def check_day(entry, X: pd.DataFrame):
    detector = entry["model"].detector
    raw = detector.score_samples(X)
    return check_drift(entry["reference"], X, raw, raw <= detector.offset_, SETTINGS)


@pytest.mark.parametrize("service", SERVICES)
def test_stationary_data_acts_at_most_once_in_30_days(service_data, service):
    entry = service_data[service]
    checks = [check_day(entry, day_of(entry, d)) for d in range(30)]
    acting = [c.reasons for c in checks if c.status == DriftStatus.ACT]
    assert len(acting) <= 1, acting
    assert all(c.windows >= MIN_WINDOWS for c in checks)


def test_promised_rate_is_what_the_calibration_promises(service_data):
    detector = service_data["checkout"]["model"].detector
    rate = promised_alarm_rate(detector)
    assert rate == pytest.approx(10**detector.offset_, rel=1e-9) and rate == pytest.approx(4.28e-4, rel=0.01)
    # A window exactly at the promised tail probability is exactly at the alarm confidence.
    assert detector.confidence_from_scores(np.log10([rate]))[0] == pytest.approx(detector.alarm_confidence)


# -- power: a one-sigma shift in one feature acts within a day ----------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_one_sigma_shift_of_a_sample_feature_acts_within_a_day(service_data, service):
    # error_rate_z varies within a day, not from release to release; features whose spread is
    # mostly release-to-release levels (CPU, latency) move a sigma with normal releases (see report).
    entry = service_data[service]
    X = day_of(entry, 0)
    shifted = X.assign(error_rate_z=X["error_rate_z"] + entry["X_train"]["error_rate_z"].std())
    assert check_day(entry, X).features.set_index("feature").loc["error_rate_z", "status"] != DriftStatus.ACT
    check = check_day(entry, shifted)
    row = check.features.set_index("feature").loc["error_rate_z"]
    assert check.status == DriftStatus.ACT and row["status"] == DriftStatus.ACT and row["psi"] >= SETTINGS.psi_act
    assert any(r.startswith("act: error_rate_z: PSI") for r in check.reasons)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_one_sigma_shift_of_gaussian_data_acts_and_names_the_feature(gaussian, seed):
    X, raw = gaussian_day(seed, {"f3": 1.0})
    check = check_drift(gaussian, X, raw, np.zeros(len(X), bool), SETTINGS)
    assert check.status == DriftStatus.ACT
    assert check.features.iloc[0]["feature"] == "f3" and (check.features["status"] == DriftStatus.ACT).sum() == 1
    assert check.reasons[0].startswith("act: f3: PSI")
    X, raw = gaussian_day(seed)
    assert check_drift(gaussian, X, raw, np.zeros(len(X), bool), SETTINGS).status != DriftStatus.ACT


# -- the alert rate against the calibration's promise ---------------------------------------------


def every(n: int, k: int) -> np.ndarray:
    """Every k-th window flagged: separate episodes."""
    return np.arange(n) % k == 0


@pytest.mark.parametrize(
    "days, flagged, expected",
    [
        (10, lambda n: every(n, 100), DriftStatus.OK),  # at the promised 1 %
        (10, lambda n: every(n, 25), DriftStatus.ACT),  # 4x the promise
        (1, lambda n: np.arange(n) < 4, DriftStatus.OK),  # one episode of four adjacent windows is one trial
        (100, lambda n: every(n, 66), DriftStatus.WARN),  # 1.5x over 100 days: significant, too small to act
    ],
)
def test_alert_rate_against_the_promise(gaussian, days, flagged, expected):
    X, raw = gaussian_day(7, days=days)
    check = check_drift(gaussian, X, raw, flagged(len(X)), SETTINGS)
    assert check.alert_rate.status == expected and check.alert_rate.promised == 0.01
    assert check.alert_rate.observed == pytest.approx(flagged(len(X)).mean())


def test_few_windows_never_act(gaussian):
    X, raw = gaussian_day(7, {"f1": 5.0})
    check = check_drift(gaussian, X.iloc[:20], raw[:20], np.ones(20, bool), SETTINGS)
    assert check.status == DriftStatus.OK and check.windows == 20
    assert check.reasons == [f"too few windows to tell (20; a check needs {MIN_WINDOWS})"]
    json.dumps(check.as_dict(), allow_nan=False)


# -- the score distribution ----------------------------------------------------------------------


@pytest.mark.parametrize("offset, expected", [(0.0, DriftStatus.OK), (-1.0, DriftStatus.WARN)])
def test_a_score_shift_warns_but_never_acts_alone(gaussian, offset, expected):
    X, raw = gaussian_day(11, days=10)
    check = check_drift(gaussian, X, raw + offset, np.zeros(len(X), bool), SETTINGS)
    assert check.score_shift.status == expected and check.status == expected
    assert any(r.startswith("warn: anomaly scores") for r in check.reasons) == (expected == DriftStatus.WARN)
    if expected == DriftStatus.WARN:
        assert check.score_shift.p_value < 1e-6  # significant enough to act, were it not a summary


def test_a_days_check_is_logged_as_plain_json(gaussian):
    X, raw = gaussian_day(5, {"f2": 1.0})
    record = json.loads(json.dumps(check_drift(gaussian, X, raw, every(len(X), 30), SETTINGS).as_dict(), allow_nan=False))
    assert record["status"] == "act" and record["windows"] == DAY and record["features"][0]["feature"] == "f2"
    assert set(record["features"][0]) == {"feature", "psi", "p_value", "n_eff", "status"}
    assert set(record["alert_rate"]) == {"flagged", "episodes", "observed", "promised", "p_value", "status"}


# -- bad inputs --------------------------------------------------------------------------------


def test_missing_features_are_named(gaussian):
    X, raw = gaussian_day(7)
    with pytest.raises(DataError, match=r"\['f2', 'f5'\] were in the drift reference"):
        check_drift(gaussian, X.drop(columns=["f2", "f5"]), raw, np.zeros(len(X), bool), SETTINGS)


def test_all_nan_windows_are_too_few(gaussian):
    X, raw = gaussian_day(7)
    check = check_drift(gaussian, X * np.nan, raw, np.zeros(len(X), bool), SETTINGS)
    assert check.status == DriftStatus.OK and check.reasons[0].startswith("too few windows to tell (0")


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: DriftReference.from_training(frame(np.empty((0, 2)), columns=["a", "b"]), [], 0.01), "non-empty"),
        (lambda: DriftReference.from_training(frame(np.ones((2000, 1)), columns=["a"]).reset_index(drop=True), np.zeros(2000), 0.01), "DatetimeIndex"),
        (lambda: DriftReference.from_training(frame(np.ones((2000, 1)), columns=["a"]), np.zeros(10), 0.01), "differ in number"),
        (lambda: DriftReference.from_training(frame(np.full((2000, 1), np.nan), columns=["a"]), np.zeros(2000), 0.01), r"\['a'\] have fewer"),
        (lambda: DriftReference.from_training(frame(np.ones((3 * DAY, 1)), columns=["a"]), np.zeros(3 * DAY), 0.01), "training spans"),
        (lambda: DriftReference.from_dict({}), "not a drift reference"),
        (lambda: DriftReference.from_dict({"version": 1, "features": {}}), "not a drift reference"),
        (lambda: DriftReference.from_dict({"version": 1, "features": {"a": {"edges": [0.0]}}}), "malformed"),
    ],
)
def test_bad_references_are_clear_errors(build, message):
    with pytest.raises(DataError, match=message):
        build()


def test_lengths_must_agree(gaussian):
    X, raw = gaussian_day(7)
    with pytest.raises(DataError, match="differ in length"):
        check_drift(gaussian, X, raw[:-1], np.zeros(len(X), bool), SETTINGS)


def test_a_model_flagging_a_whole_day_acts_though_it_is_one_episode(gaussian):
    X, raw = gaussian_day(13)
    flooded = np.ones(len(X), bool)  # every window flagged: a single endless episode
    check = check_drift(gaussian, X, raw, flooded, SETTINGS)
    assert check.alert_rate.episodes == 1 and check.alert_rate.p_value > SETTINGS.alpha
    assert check.alert_rate.status == DriftStatus.ACT and check.status == DriftStatus.ACT
    quarter = np.zeros(len(X), bool)
    quarter[: len(X) // 5] = True  # a fifth of the day: one long episode, below the flood share
    assert check_drift(gaussian, X, raw, quarter, SETTINGS).alert_rate.status != DriftStatus.ACT
