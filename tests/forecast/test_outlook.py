"""One series' forecast (:mod:`workbench.forecast.outlook`): seasons, intervals, trend, and the
notes and errors for short or constant series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import usage

from workbench.errors import ForecastError
from workbench.forecast.backtest import backtest
from workbench.forecast.history import prepare_series
from workbench.forecast.outlook import forecast_series, trend


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


def test_constant_series():
    index = pd.date_range("2026-01-01", periods=21 * 24, freq="1h", tz="UTC")
    fc = forecast_series(pd.Series(50.0, index=index), horizon="7D")
    assert (fc.frame["yhat"] == 50).all() and (fc.frame["upper"] == 50).all() and (fc.frame["lower"] == 50).all()
    assert any("constant" in n for n in fc.notes) and not fc.growing
    rows = backtest(prepare_series(pd.Series(50.0, index=index))[0], initial="14D")
    assert rows["mae"].eq(0).all() and rows["mase"].isna().all()  # MASE is undefined with no variation


def test_trend_is_found_when_usage_grows_and_not_otherwise():
    slope, low, high = trend(usage(days=35, slope=0.5))
    assert low > 0 and slope == pytest.approx(0.5, abs=0.15)
    flat = forecast_series(usage(days=35), horizon="2D")
    assert not flat.growing
    assert forecast_series(usage(days=35, slope=0.5), horizon="2D").growing
