"""Forecast methods (:mod:`workbench.forecast.methods`): they use only the past, and holidays
are forecast like Sundays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import usage

from workbench.forecast.methods import Calendar, predict, us_major_holidays
from workbench.forecast.outlook import forecast_series


def test_forecasts_use_only_the_past():
    y = usage(days=28).to_numpy()
    changed = y.copy()
    changed[20 * 24 :] += 100  # the future changes; the forecast from day 20 must not
    for method in ("profile", "seasonal_naive", "median4"):
        np.testing.assert_array_equal(predict(y[: 20 * 24], 48, method, 24, 168), predict(changed[: 20 * 24], 48, method, 24, 168))


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


# -- added: the holiday calendar and the registered methods --------------------------------------


def test_us_major_holidays_in_2026():
    found = us_major_holidays(pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-12-31"))
    assert [str(d) for d in found] == ["2026-01-01", "2026-05-25", "2026-07-04", "2026-09-07", "2026-11-26", "2026-12-25"]
    assert us_major_holidays("2026-01-02", "2026-05-24") == []


def test_calendar_marks_holidays_and_steps_back_to_sunday():
    start = pd.Timestamp("2026-01-05", tz="UTC")  # a Monday
    cal = Calendar.build(start, pd.Timedelta("6h"), 4 * 8, [pd.Timestamp("2026-01-07")])
    assert cal.holiday.tolist() == [False] * 8 + [True] * 4 + [False] * 20  # Wednesday, all four steps
    assert cal.sunday_back[:4].tolist() == [4] * 4  # Monday: one day back
    assert cal.sunday_back[24:28].tolist() == [0] * 4  # Sunday itself
    assert not Calendar.build(start, pd.Timedelta("1h"), 48, []).holiday.any()


@pytest.mark.parametrize("method", ["profile", "seasonal_naive", "median4", "mstl"])
def test_each_method_forecasts_h_finite_steps(method):
    y = usage(days=28).to_numpy()
    out = predict(y, 36, method, 24, 168)
    assert out.shape == (36,) and np.isfinite(out).all()
    assert np.abs(out - y[-168:][:36]).mean() < 5  # about last week at the same hours


def test_seasonal_naive_repeats_last_week():
    y = np.arange(3 * 168, dtype=float)
    np.testing.assert_array_equal(predict(y, 200, "seasonal_naive", 24, 168), np.concatenate([y[-168:], y[-168:][:32]]))
