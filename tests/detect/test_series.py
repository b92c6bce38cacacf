from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from workbench.detect.base import ScoreDirection
from workbench.detect.series import SeriesDetector, suppress_repeats
from workbench.errors import DataError, ParameterError
from workbench.workflows.nab import detect_frame, read_nab_csv

NAB = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "nab"


def series(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    t = pd.date_range("2026-01-01", periods=n, freq="5min")
    daily = 10 * np.sin(2 * np.pi * np.arange(n) / 288)
    return t, 50 + daily + rng.normal(0, 1, n)


def column(values):
    return np.asarray(values, dtype=float).reshape(-1, 1)


def scores(timestamps, values, **params):
    X = column(values)
    return SeriesDetector(**params).fit(X).score_samples(X, timestamps=timestamps)


def test_scores_are_causal():
    t, v = series()
    full = scores(t, v)
    changed = v.copy()
    changed[2000:] += 100  # the future changes completely
    for k in (500, 1500, 2000):
        assert np.array_equal(scores(t[:k], v[:k]), full[:k])
    assert np.array_equal(scores(t, changed)[:2000], full[:2000])


def test_a_level_shift_is_flagged_once():
    t, v = series()
    v[2000:] += 30
    score = scores(t, v)
    # The first day is warm-up: every new phase of the daily cycle is a new range.
    alarms = np.flatnonzero(score[288:] >= 0.9999) + 288
    assert alarms.size >= 1 and 2000 <= alarms[0] <= 2005


@pytest.mark.parametrize("forest_voice", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_the_warm_up_raises_no_alarm_on_noise(seed, forest_voice):
    # Warm-up rows once counted as zeros in the likelihood's history: the first real
    # z-score (row 2 * min_history) then looked infinitely unusual and every series alarmed.
    x = column(np.random.default_rng(seed).normal(size=800))
    score = SeriesDetector(margin=10.0, forest_voice=forest_voice).fit(x).score_samples(x)  # no new-range flags: the voices only
    assert (score[:400] < 0.9999).all()
    assert (score[:200] == 0).all()  # nothing speaks before its baseline exists


def test_constant_series_gives_no_alarm():
    t, _ = series(1000)
    score = scores(t, np.full(1000, 7.0))
    assert (score < 0.9999).all()


def test_nan_rows_score_zero_and_do_not_break():
    t, v = series(1000)
    v[300:320] = np.nan
    score = scores(t, v)
    assert (score[300:320] == 0).all() and np.isfinite(score).all()


def test_repeated_and_unsorted_timestamps_are_scored_as_a_stream():
    t, v = series(800)
    jumped = t.to_series().reset_index(drop=True)
    jumped.iloc[400:405] = jumped.iloc[395]  # a clock jump, as in NAB's machine_temperature file
    # Rows are scored in the order given; times past the first rows change nothing.
    assert np.array_equal(scores(jumped, v), scores(t, v))


def test_a_weekly_pattern_needs_the_timestamps():
    # Three weeks of a flat hourly series, then a bump at the hour the past weeks were
    # quiet: with the times the weekly voice hears it; without them there is no weekly voice.
    t = pd.date_range("2026-01-01", periods=4 * 168, freq="1h")
    v = np.where(np.arange(len(t)) % 168 == 100, 20.0, 10.0) + np.random.default_rng(0).normal(0, 0.1, len(t))
    v[3 * 168 + 50] = 20.0  # one week-hour that was always quiet
    params = {"history": 168, "min_history": 24, "long": 168}
    with_times, without = scores(t, v, **params), scores(None, v, **params)
    assert not np.array_equal(with_times, without)
    assert np.array_equal(with_times[: 3 * 168], without[: 3 * 168])  # the weekly voice is silent for three weeks


def test_score_direction_and_range():
    t, v = series(1000)
    v[700] += 40
    out = scores(t, v)
    assert SeriesDetector.score_direction is ScoreDirection.HIGHER_IS_ABNORMAL
    assert out.min() >= 0 and out.max() <= 1
    assert out[700] == out.max() and out[700] > 0.999  # the spike is the most abnormal row


def test_fit_learns_nothing():
    # The baselines are the scored stream's own past: whatever fit saw, the scores agree.
    t, v = series(600)
    probe = column(v)
    fitted = [SeriesDetector().fit(X) for X in (probe, column(np.zeros(3)), column(v * 100 + 7))]
    assert all(np.array_equal(d.score_samples(probe, timestamps=t), fitted[0].score_samples(probe, timestamps=t)) for d in fitted)
    assert all({k for k in vars(d) if k.endswith("_")} == {"n_features_in_"} for d in fitted)


def test_timestamps_from_a_datetime_index():
    t, v = series(600)
    frame = pd.DataFrame({"value": v}, index=t)
    assert np.array_equal(SeriesDetector().fit(frame).score_samples(frame), scores(t, v))


def test_score_before_fit_is_not_fitted():
    with pytest.raises(NotFittedError):
        SeriesDetector().score_samples(column([1.0, 2.0]))


@pytest.mark.parametrize(
    "params, message",
    [({"history": 0}, "history must be at least 1"), ({"suppress": -1}, "non-negative"), ({"alarm": 1.5}, "alarm")],
)
def test_bad_parameters(params, message):
    with pytest.raises(ParameterError, match=message):
        SeriesDetector(**params).fit(column([1.0, 2.0]))


def test_one_series_only():
    with pytest.raises(DataError, match=r"shape \(n_samples, 1\)"):
        SeriesDetector().fit(np.ones((10, 2)))
    with pytest.raises(DataError, match="numbers"):
        SeriesDetector().fit(np.array([["a"], ["b"]]))


@pytest.mark.parametrize(
    "timestamps, values, message",
    [
        (pd.date_range("2026-01-01", periods=3, freq="1min"), [1.0, 2.0], "3 timestamps for 2 values"),
        (pd.date_range("2026-01-01", periods=3, freq="1min"), [np.nan] * 3, "no finite values"),
        (["soon", "later", "never"], [1.0, 2.0, 3.0], "timestamps"),
    ],
)
def test_bad_input(timestamps, values, message):
    with pytest.raises(DataError, match=message):
        scores(timestamps, values)


def test_suppression_keeps_the_first_alarm_only():
    out = suppress_repeats(np.array([0.2, 1.0, 1.0, 1.0, 0.3, 1.0]), alarm=0.9, rows=3)
    assert out.tolist() == [0.2, 1.0, 0.5, 0.5, 0.15, 1.0]


@pytest.mark.skipif(not NAB.is_dir(), reason="../shared/benchmarks/nab is absent (the team's shared folder)")
def test_real_file_every_row_in_order():
    frame = read_nab_csv(NAB / "data" / "realKnownCause" / "machine_temperature_system_failure.csv")
    out = detect_frame(frame)
    assert list(out.columns) == ["timestamp", "value", "anomaly_score"]
    assert len(out) == len(frame) and out["timestamp"].equals(frame["timestamp"])
    assert out["anomaly_score"].between(0, 1).all()


def test_the_forest_voice_waits_for_enough_known_rows():
    # A short minimum history and a long gap: the forest fits only once it has its 50 rows.
    x = np.random.default_rng(0).normal(size=400)
    x[:170] = np.nan
    score = SeriesDetector(forest_voice=True, min_history=10).fit(column(x)).score_samples(column(x))
    assert score.shape == (400,) and np.isfinite(score).all() and (score[:170] == 0).all()
