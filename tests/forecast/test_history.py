"""Series preparation (:mod:`workbench.forecast.history`): gaps, negatives, untidy timestamps,
resampling and the clear errors for series that cannot be forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import usage

from workbench.errors import ForecastError
from workbench.forecast.history import prepare_series, seasons, series_step
from workbench.forecast.outlook import forecast_series


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
    assert clean.isna().sum() == 60 and notes == ["62 missing steps: 2 filled in, 60 left as gaps"]
    fc = forecast_series(series, horizon="7D")
    assert np.isfinite(fc.frame.to_numpy()).all()


def test_negative_values_are_clipped_and_reported():
    series = usage(days=21) - 45  # part of every night below zero
    fc = forecast_series(series, horizon="2D")
    assert any("negative values set to 0" in n for n in fc.notes)
    assert (fc.frame[["yhat", "lower", "upper"]] >= 0).all().all()


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


# -- added: the step and seasons of a series ---------------------------------------------------


@pytest.mark.parametrize("step, day, week", [("1h", 24, 168), ("15min", 96, 672), ("30min", 48, 336), ("1D", 1, 7)])
def test_seasons_per_step(step, day, week):
    assert seasons(pd.Timedelta(step)) == (day, week)


@pytest.mark.parametrize("step", ["7min", "2D"])
def test_a_step_that_does_not_divide_a_day_is_a_clear_error(step):
    with pytest.raises(ForecastError, match="does not divide a day"):
        seasons(pd.Timedelta(step))


def test_series_step_from_the_frequency_or_the_most_common_step():
    regular = pd.Series(1.0, index=pd.date_range("2026-01-01", periods=5, freq="15min", tz="UTC"))
    assert series_step(regular) == pd.Timedelta("15min")
    ragged = regular.drop(regular.index[2])  # no frequency any more; most steps are still 15 minutes
    assert ragged.index.freq is None and series_step(ragged) == pd.Timedelta("15min")
    with pytest.raises(ForecastError, match="one sample is not a series"):
        series_step(regular.iloc[:1].set_axis(pd.DatetimeIndex(regular.index[:1], freq=None)))
