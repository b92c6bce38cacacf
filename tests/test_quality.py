"""Data-quality checks on every source's metrics (:mod:`workbench.quality`)."""

import numpy as np
import pandas as pd
import pytest

from workbench.contracts import validate_long
from workbench.errors import DataError, DataWarning
from workbench.quality import check_values, find_counters, missing_metrics

START = pd.Timestamp("2026-10-01T00:00Z")


def series(metric: str, values, service: str = "checkout", freq: str = "1min") -> pd.DataFrame:
    stamps = pd.date_range(START, periods=len(values), freq=freq)
    return pd.DataFrame({"timestamp": stamps, "service": service, "metric": metric, "value": np.asarray(values, dtype=float)})


def daily_rate(days: float = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    minutes = np.arange(int(days * 1440))
    return 200 + 150 * np.sin(2 * np.pi * minutes / 1440) + rng.normal(0, 5, len(minutes))


def test_impossible_values_become_gaps_with_one_note_per_series():
    values = np.full(60, 12.0)
    values[[3, 4]] = [np.inf, -np.inf]
    latency = np.full(60, 80.0)
    latency[10] = -250.0
    errors = np.full(60, 1.5)
    errors[20] = 150.0
    frame = pd.concat([series("cpu_usage", values), series("latency_p95", latency), series("error_rate", errors)], ignore_index=True)
    with pytest.warns(DataWarning) as caught:
        out = validate_long(frame)
    text = str(caught[0].message)
    assert "checkout cpu_usage: 2 infinite value(s)" in text and "checkout latency_p95: 1 negative value(s) (e.g. -250 at 2026-10-01 00:10)" in text
    assert "checkout error_rate: 1 above 100 % value(s)" in text
    assert len(out) == 180 - 4 and np.isfinite(out["value"]).all() and out["value"].min() >= 0


def test_clean_values_pass_without_a_note(recwarn):
    frame = pd.concat([series("error_rate", np.full(30, 100.0)), series("memory_usage", np.full(30, 0.0))], ignore_index=True)
    assert len(check_values(frame)) == 60
    assert not [w for w in recwarn if issubclass(w.category, DataWarning)]


def test_a_series_of_only_impossible_values_is_an_error():
    with pytest.warns(DataWarning), pytest.raises(DataError, match="no usable values"):
        validate_long(series("latency_p99", np.full(10, -1.0)))


@pytest.mark.parametrize("resets", [0, 2])
def test_a_raw_counter_given_as_a_rate_is_refused_with_the_fix(resets):
    increments = np.maximum(daily_rate(), 0) * 60
    total = np.cumsum(increments)
    for cut in np.linspace(0, len(total), resets + 2)[1:-1].astype(int):
        total[cut:] -= total[cut - 1]  # a restarted process counts from zero again
    with pytest.raises(DataError, match=r"checkout request_rate rises in 100% of its changing steps .*rate\(http_requests_total\[5m\]\)") as err:
        validate_long(series("request_rate", total))
    assert (f"with {resets} reset(s)" in str(err.value)) == bool(resets)


def test_real_rates_and_a_memory_leak_are_not_counters():
    leak = np.linspace(40, 90, 1440) + np.random.default_rng(1).normal(0, 0.01, 1440)
    frame = pd.concat([series("request_rate", daily_rate()), series("cpu_usage", daily_rate(seed=2) / 5), series("memory_usage", leak)], ignore_index=True)
    assert find_counters(frame) == []
    # A morning ramp is monotonic for an hour or two: too short to be called a counter.
    ramp = series("request_rate", np.linspace(10, 500, 120))
    assert find_counters(ramp) == []


def test_missing_metrics_names_absent_and_all_gap_metrics():
    wide = pd.DataFrame({"cpu_usage": [1.0, 2.0], "memory_usage": [np.nan, np.nan]})
    assert missing_metrics(wide, ["cpu_usage", "memory_usage", "request_rate"]) == ["memory_usage", "request_rate"]
