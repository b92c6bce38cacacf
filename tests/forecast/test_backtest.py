"""Rolling-origin backtests (:mod:`workbench.forecast.backtest`) on synthetic series with known
answers and on real data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from builders import usage

from workbench.errors import ForecastError
from workbench.forecast.backtest import backtest, backtest_summary
from workbench.forecast.history import prepare_series
from workbench.forecast.methods import us_major_holidays

NYC = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "nab" / "data" / "realKnownCause" / "nyc_taxi.csv"


def test_backtest_on_a_purely_weekly_series_is_exact_for_the_naive_methods():
    series = usage(days=42, noise=0.0)
    rows = backtest(series, methods=("seasonal_naive", "median4", "profile"))
    assert rows[rows["method"] != "profile"]["mae"].max() < 1e-9
    assert rows[rows["method"] == "profile"]["mae"].max() < 1e-6  # the level factor is exactly 1


def test_backtest_too_short_is_a_clear_error():
    with pytest.raises(ForecastError, match="too short to backtest"):
        backtest(usage(days=10), initial="28D")


@pytest.mark.benchmark_data
def test_nyc_taxi_profile_beats_both_baselines_on_both_horizons():
    """The issue's floor, on real data (30-minute taxi demand with holidays and a blizzard)."""
    if not NYC.is_file():
        pytest.skip(f"{NYC} not found: the shared NAB data sits beside the repository in ../shared")
    raw = pd.read_csv(NYC, parse_dates=["timestamp"]).set_index("timestamp")["value"]
    series, _ = prepare_series(raw.rename("nyc_taxi"), None)
    summary = backtest_summary(backtest(series, initial="56D")).set_index(["horizon", "method"])["mase"]
    for horizon in ("1 day", "1 week"):
        assert summary[(horizon, "profile")] < summary[(horizon, "median4")] < summary[(horizon, "seasonal_naive")]
    # Told the major holidays, the one-week forecast reaches the aim of 0.8 x seasonal-naive.
    holidays = us_major_holidays(series.index[0], series.index[-1])
    told = backtest_summary(backtest(series, initial="56D", holidays=holidays)).set_index(["horizon", "method"])["mase"]
    assert told[("1 week", "profile")] < 0.8 * told[("1 week", "seasonal_naive")]
    assert told[("1 day", "profile")] < 0.8 * told[("1 day", "seasonal_naive")]
