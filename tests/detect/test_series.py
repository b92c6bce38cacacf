from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.detect.series import SeriesDetector, suppress_repeats
from workbench.errors import DataError
from workbench.evaluate.nab import detect_frame, read_nab_csv

NAB = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "nab"


def series(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    t = pd.date_range("2026-01-01", periods=n, freq="5min")
    daily = 10 * np.sin(2 * np.pi * np.arange(n) / 288)
    return t, 50 + daily + rng.normal(0, 1, n)


def test_scores_are_causal():
    t, v = series()
    full = SeriesDetector().score(t, v)
    changed = v.copy()
    changed[2000:] += 100  # the future changes completely
    for k in (500, 1500, 2000):
        assert np.array_equal(SeriesDetector().score(t[:k], v[:k]), full[:k])
    assert np.array_equal(SeriesDetector().score(t, changed)[:2000], full[:2000])


def test_a_level_shift_is_flagged_once():
    t, v = series()
    v[2000:] += 30
    score = SeriesDetector().score(t, v)
    # The first day is warm-up: every new phase of the daily cycle is a new range.
    alarms = np.flatnonzero(score[288:] >= 0.9999) + 288
    assert alarms.size >= 1 and 2000 <= alarms[0] <= 2005


def test_constant_series_gives_no_alarm():
    t, _ = series(1000)
    score = SeriesDetector().score(t, np.full(1000, 7.0))
    assert (score < 0.9999).all()


def test_nan_rows_score_zero_and_do_not_break():
    t, v = series(1000)
    v[300:320] = np.nan
    score = SeriesDetector().score(t, v)
    assert (score[300:320] == 0).all() and np.isfinite(score).all()


def test_repeated_and_unsorted_timestamps_are_scored_as_a_stream():
    t, v = series(800)
    t = t.to_series().reset_index(drop=True)
    t.iloc[400:405] = t.iloc[395]  # a clock jump, as in NAB's machine_temperature file
    assert len(SeriesDetector().score(t, v)) == 800


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
        SeriesDetector().score(timestamps, values)


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
