"""Forecasts, backtests, intervals and trend, on synthetic series with known answers and on real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ForecastError
from workbench.forecast.backtest import backtest, backtest_summary
from workbench.forecast.history import prepare_series
from workbench.forecast.methods import predict, us_major_holidays
from workbench.forecast.outlook import forecast_series, trend

NYC = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "nab" / "data" / "realKnownCause" / "nyc_taxi.csv"


def usage(days: int = 56, noise: float = 2.0, slope: float = 0.0, seed: int = 0, start: str = "2026-01-05") -> pd.Series:
    """Hourly CPU-like usage: a daily cycle, quieter weekends, noise, an optional trend per day."""
    index = pd.date_range(start, periods=days * 24, freq="1h", tz="UTC")
    hour, weekday = index.hour.to_numpy(), index.day_of_week.to_numpy()
    t = np.arange(len(index)) / 24
    base = 40 + 15 * np.sin(2 * np.pi * (hour - 6) / 24) - 10 * (weekday >= 5) + slope * t
    rng = np.random.default_rng(seed)
    return pd.Series(base + rng.normal(0, noise, len(index)), index=index, name="cpu")


@pytest.fixture(scope="module")
def weekly_forecast():
    full = usage(days=56 + 14)
    history, future = full.iloc[: 56 * 24], full.iloc[56 * 24 :]
    return forecast_series(history, horizon="14D"), future


def test_forecast_has_both_seasons_and_is_close(weekly_forecast):
    fc, future = weekly_forecast
    assert fc.seasonality == "daily and weekly" and fc.method == "profile"
    assert len(fc.frame) == 14 * 24 and fc.frame.index[0] == future.index[0]
    error = np.abs(fc.frame["yhat"].to_numpy() - future.to_numpy()).mean()
    assert error < 2.0  # the noise's own mean absolute size is 1.6
    assert (fc.frame["lower"] <= fc.frame["yhat"]).all() and (fc.frame["yhat"] <= fc.frame["upper"]).all()


def test_interval_covers_about_what_it_says(weekly_forecast):
    fc, future = weekly_forecast
    inside = ((future.to_numpy() >= fc.frame["lower"].to_numpy()) & (future.to_numpy() <= fc.frame["upper"].to_numpy())).mean()
    assert 0.8 <= inside <= 0.98, inside


def test_weekend_pattern_is_learned(weekly_forecast):
    fc, _ = weekly_forecast
    by_weekend = fc.frame["yhat"].groupby(fc.frame.index.day_of_week >= 5).mean()
    assert by_weekend[False] - by_weekend[True] == pytest.approx(10, abs=1.5)


def test_short_series_falls_back_to_daily_and_says_so():
    fc = forecast_series(usage(days=10), horizon="3D")
    assert fc.seasonality == "daily only"
    assert any("daily seasonality only" in n for n in fc.notes)
    assert np.isfinite(fc.frame["yhat"]).all()


def test_too_short_for_any_seasonality_is_a_clear_error():
    with pytest.raises(ForecastError, match="too short for any seasonality; need at least 2 days"):
        forecast_series(usage(days=1))


@pytest.mark.parametrize("bad", [pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC")), pd.Series([np.nan] * 5, index=pd.date_range("2026-01-01", periods=5, freq="1h", tz="UTC"))])
def test_empty_or_all_nan_is_a_clear_error(bad):
    with pytest.raises(ForecastError, match="no values to forecast"):
        forecast_series(bad)


def test_no_datetime_index_is_a_clear_error():
    with pytest.raises(ForecastError, match="DatetimeIndex"):
        forecast_series(pd.Series([1.0, 2.0]))


def test_gaps_are_interpolated_or_kept_and_reported():
    series = usage(days=28)
    series = series.drop(series.index[100:102]).drop(series.index[300:360])  # 2 hours, then 60 hours
    clean, notes = prepare_series(series, "1h")
    assert clean.isna().sum() == 60 and notes == ["62 missing steps, 2 interpolated, 60 left as gaps"]
    fc = forecast_series(series, horizon="7D")
    assert np.isfinite(fc.frame.to_numpy()).all()


def test_negative_values_are_clipped_and_reported():
    series = usage(days=21) - 45  # part of every night below zero
    fc = forecast_series(series, horizon="2D")
    assert any("negative values set to 0" in n for n in fc.notes)
    assert (fc.frame[["yhat", "lower", "upper"]] >= 0).all().all()


def test_constant_series():
    index = pd.date_range("2026-01-01", periods=21 * 24, freq="1h", tz="UTC")
    fc = forecast_series(pd.Series(50.0, index=index), horizon="7D")
    assert (fc.frame["yhat"] == 50).all() and (fc.frame["upper"] == 50).all() and (fc.frame["lower"] == 50).all()
    assert any("constant" in n for n in fc.notes) and not fc.growing
    rows = backtest(prepare_series(pd.Series(50.0, index=index))[0], initial="14D")
    assert rows["mae"].eq(0).all() and rows["mase"].isna().all()  # MASE is undefined with no variation


def test_untidy_timestamps_give_the_same_forecast():
    series = usage(days=21)
    messy = pd.concat([series.iloc[::-1], series.iloc[:50]])  # reversed, with duplicates
    messy.index = messy.index.tz_localize(None)  # naive: taken as UTC
    a = forecast_series(series, horizon="2D").frame
    b = forecast_series(messy, horizon="2D").frame
    pd.testing.assert_frame_equal(a, b)


def test_minute_samples_are_averaged_to_the_resolution():
    minutes = pd.Series(np.arange(21 * 1440, dtype=float) % 1440 / 14.4, index=pd.date_range("2026-01-01", periods=21 * 1440, freq="1min", tz="UTC"))
    fc = forecast_series(minutes, horizon="1D", resolution="1h")
    assert fc.frame.index.freq == pd.Timedelta("1h") and fc.frame["yhat"].iloc[0] == pytest.approx(minutes.iloc[:60].mean())


def test_forecasts_use_only_the_past():
    y = usage(days=28).to_numpy()
    changed = y.copy()
    changed[20 * 24 :] += 100  # the future changes; the forecast from day 20 must not
    for method in ("profile", "seasonal_naive", "median4"):
        np.testing.assert_array_equal(predict(y[: 20 * 24], 48, method, 24, 168), predict(changed[: 20 * 24], 48, method, 24, 168))


def test_backtest_on_a_purely_weekly_series_is_exact_for_the_naive_methods():
    series = usage(days=42, noise=0.0)
    rows = backtest(series, methods=("seasonal_naive", "median4", "profile"))
    assert rows[rows["method"] != "profile"]["mae"].max() < 1e-9
    assert rows[rows["method"] == "profile"]["mae"].max() < 1e-6  # the level factor is exactly 1


def test_backtest_too_short_is_a_clear_error():
    with pytest.raises(ForecastError, match="too short to backtest"):
        backtest(usage(days=10), initial="28D")


def test_trend_is_found_when_usage_grows_and_not_otherwise():
    slope, low, high = trend(usage(days=35, slope=0.5))
    assert low > 0 and slope == pytest.approx(0.5, abs=0.15)
    flat = forecast_series(usage(days=35), horizon="2D")
    assert not flat.growing
    assert forecast_series(usage(days=35, slope=0.5), horizon="2D").growing


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


def test_a_holiday_ahead_is_forecast_like_a_sunday_and_past_ones_are_left_out():
    series = usage(days=35, noise=0.5)
    holiday = pd.Timestamp("2026-02-11")  # a Wednesday, in the history
    quiet = series.index.normalize().tz_localize(None) == holiday
    series[quiet] -= 10  # behaves like a weekend day
    ahead = series.index[-1].normalize().tz_localize(None) + pd.Timedelta(days=3)  # a Wednesday ahead
    fc = forecast_series(series, horizon="14D", holidays=[holiday, ahead])
    plain = forecast_series(series, horizon="14D")
    on = fc.frame.index.normalize().tz_localize(None) == ahead
    sundays = fc.frame.index.day_of_week == 6
    assert fc.frame.loc[on, "yhat"].mean() == pytest.approx(fc.frame.loc[sundays, "yhat"].mean(), abs=1.0)
    assert plain.frame.loc[on, "yhat"].mean() - fc.frame.loc[on, "yhat"].mean() == pytest.approx(10, abs=1.5)
    assert any("holiday" in n for n in fc.notes)
    # The past holiday no longer pulls down Wednesdays that are not holidays.
    weds = (fc.frame.index.day_of_week == 2) & ~on
    assert weds.sum() == 24 and fc.frame.loc[weds, "yhat"].mean() >= plain.frame.loc[weds, "yhat"].mean() - 1e-9
