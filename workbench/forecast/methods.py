"""Forecasting methods: arrays in, arrays out, registered by name in
:data:`workbench._registry.FORECASTERS`.

All work on a regular series with NaN for gaps; ``day`` and ``week`` are the number of
steps in a day and a week at the series' resolution:

* ``seasonal_naive``: the same slot one season ago (baseline);
* ``median4``: the median of the same slot over the last four seasons (baseline);
* ``profile`` (default): the trimmed mean of the same slot over the last six seasons
  (the highest and lowest dropped when four or more are there), times a level factor:
  how the last day compared with what the profile said for it, shrunk halfway to 1 and
  fading with a two-day half-life over the horizon. Robust to one bad week (an incident,
  a holiday) and quick to follow a level shift;
* ``mstl``: statsmodels' MSTL (daily and weekly seasonal parts) with exponential smoothing
  on the seasonally adjusted rest; kept as the statsmodels comparison.

Why ``profile`` is the default: it won the rolling-origin backtests on the sample and on
NAB's nyc_taxi series against both baselines and against MSTL (figures and command in
``benchmarks/RESULTS.md``). The season is a week when there are at least two weeks of
history, else a day.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench._registry import FORECASTERS
from workbench.errors import ParameterError

__all__ = ["BASELINES", "Calendar", "median4", "mstl", "predict", "profile", "seasonal_naive", "tags", "us_major_holidays"]

#: The two baselines every backtest compares against; the first also scales MASE.
BASELINES = ("seasonal_naive", "median4")


def _same_slot(y: np.ndarray, h: int, m: int, k: int) -> np.ndarray:
    """For each of ``h`` future steps, the last ``k`` values of its slot (rows: steps)."""
    n = len(y)
    j = np.arange(h)
    last = n - m + (j % m)  # the slot's most recent position in the history
    idx = last[:, None] - m * np.arange(k)[None, :]
    out = np.full(idx.shape, np.nan)
    ok = idx >= 0
    out[ok] = y[idx[ok]]
    return out


def _trimmed_mean(rows: np.ndarray) -> np.ndarray:
    valid = np.isfinite(rows)
    count = valid.sum(axis=1)
    filled = np.where(valid, rows, 0.0)
    total = filled.sum(axis=1)
    hi = np.where(valid, rows, -np.inf).max(axis=1)
    lo = np.where(valid, rows, np.inf).min(axis=1)
    trim = count >= 4
    total = np.where(trim, total - hi - lo, total)
    count = np.where(trim, count - 2, count)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _profile(y: np.ndarray, h: int, m: int, day: int, k: int = 6, shrink: float = 0.5, half_life_days: float = 2.0) -> np.ndarray:
    base = _trimmed_mean(_same_slot(y, h, m, k))
    # What the profile would have said for the last day, from the history before it.
    if len(y) > day + m:
        before = y[: len(y) - day]
        said = _trimmed_mean(_same_slot(before, day, m, k))
        actual = y[len(y) - day :]
        ok = np.isfinite(said) & np.isfinite(actual)
        if ok.sum() >= day // 2 and said[ok].sum() > 0:
            ratio = float(np.clip(actual[ok].sum() / said[ok].sum(), 0.5, 2.0))
            level = 1 + shrink * (ratio - 1)
            fade = 0.5 ** (np.arange(h) / (half_life_days * day))
            base = base * (1 + (level - 1) * fade)
    return _fill(base, y, h, m)


def _fill(forecast: np.ndarray, y: np.ndarray, h: int, m: int) -> np.ndarray:
    # A slot with no history at all (a long gap) takes the series' recent median.
    if np.isnan(forecast).any():
        recent = y[-m:]
        fallback = np.nanmedian(recent) if np.isfinite(recent).any() else np.nanmedian(y)
        forecast = np.where(np.isnan(forecast), fallback, forecast)
    return forecast


def _seasonal_naive(y: np.ndarray, h: int, m: int) -> np.ndarray:
    return _same_slot(y, h, m, 1)[:, 0]


def _median4(y: np.ndarray, h: int, m: int) -> np.ndarray:
    rows = _same_slot(y, h, m, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slots stay NaN
        return np.nanmedian(rows, axis=1)


def _mstl(y: np.ndarray, h: int, m: int, day: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    from statsmodels.tsa.seasonal import MSTL

    x = pd.Series(y).interpolate(limit_direction="both").to_numpy()
    periods = (day, m) if m != day else (day,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = MSTL(x, periods=periods, stl_kwargs={"seasonal_deg": 0}).fit()
        adjusted = fit.trend + fit.resid
        level = ExponentialSmoothing(adjusted, trend=None, initialization_method="estimated").fit().forecast(h)
    seasonal = np.atleast_2d(fit.seasonal.T if fit.seasonal.ndim > 1 else fit.seasonal[None, :])
    out = np.asarray(level, dtype=float).copy()
    for row, period in zip(seasonal, periods):
        last = row[-period:]
        out += last[np.arange(h) % period]
    return out


@dataclass(frozen=True)
class Calendar:
    """Holidays on a series' step grid, from its first step onwards.

    ``holiday[i]`` marks step ``i`` as a holiday; ``sunday_back[i]`` is how many steps
    back the same time of day falls on a Sunday (0 on Sundays).
    """

    holiday: np.ndarray
    sunday_back: np.ndarray

    @classmethod
    def build(cls, start: pd.Timestamp, step: pd.Timedelta, length: int, holidays) -> Calendar:
        """The calendar of ``length`` steps from ``start``; ``holidays`` are dates (any form pandas reads)."""
        index = pd.date_range(start, periods=length, freq=step)
        days = pd.DatetimeIndex(pd.to_datetime(list(holidays))).normalize().date if len(holidays) else []
        day_steps = int(pd.Timedelta("1D") / step)
        holiday = np.isin(index.normalize().date, list(days))
        sunday_back = ((index.day_of_week.to_numpy() + 1) % 7) * day_steps
        return cls(holiday, sunday_back)


def us_major_holidays(start, end) -> list:
    """The six US holidays on which most businesses close, between ``start`` and ``end``.

    New Year's Day, Memorial Day, Independence Day, Labor Day, Thanksgiving and
    Christmas, on their actual dates (no observed-day shifts).
    """
    from pandas.tseries.holiday import (
        AbstractHolidayCalendar,
        Holiday,
        USLaborDay,
        USMemorialDay,
        USThanksgivingDay,
    )

    class _Major(AbstractHolidayCalendar):
        rules = [
            Holiday("New Year's Day", month=1, day=1),
            USMemorialDay,
            Holiday("Independence Day", month=7, day=4),
            USLaborDay,
            USThanksgivingDay,
            Holiday("Christmas", month=12, day=25),
        ]

    return list(_Major().holidays(pd.Timestamp(start).tz_localize(None), pd.Timestamp(end).tz_localize(None)).date)


def _holiday_profile(y: np.ndarray, h: int, m: int, day: int, calendar: Calendar) -> np.ndarray:
    n = len(y)
    if len(calendar.holiday) < n + h:
        raise ParameterError("the calendar must cover the history and the horizon")
    # Past holidays would drag their slot's profile (and the level factor) down.
    clean = np.where(calendar.holiday[:n], np.nan, y)
    out = _profile(clean, h, m, day)
    # A holiday ahead is forecast like a Sunday at the same time of day.
    week = 7 * day
    for j in np.flatnonzero(calendar.holiday[n : n + h]):
        pos = n + j - calendar.sunday_back[n + j]
        while pos >= n:
            pos -= week
        values = clean[pos::-week][:6] if pos >= 0 else np.empty(0)
        values = values[np.isfinite(values)]
        if values.size:
            out[j] = _trimmed_mean(values[None, :])[0]
    return out


# The registered forecasters (:data:`workbench._registry.FORECASTERS`) share one signature:
# ``f(y, h, m, day, calendar)`` -> ``h`` values; ``m`` is the season in steps.
def profile(y: np.ndarray, h: int, m: int, day: int, calendar: Calendar | None = None) -> np.ndarray:
    """Trimmed mean of the same slot over six seasons times a fading level factor; holidays like Sundays."""
    if calendar is not None and calendar.holiday[: len(y) + h].any():
        return _holiday_profile(y, h, m, day, calendar)
    return _profile(y, h, m, day)


def mstl(y: np.ndarray, h: int, m: int, day: int, calendar: Calendar | None = None) -> np.ndarray:
    """statsmodels' MSTL (daily and weekly parts) with exponential smoothing on the rest; no calendar."""
    return _mstl(y, h, m, day)


# Capabilities are declared as tags on the forecaster (sktime's idiom), not tested by name:
# "slow" asks for fewer backtest origins when intervals are estimated (MSTL refits each time).
mstl.tags = {"slow": True}


def tags(method: str) -> dict:
    """The declared capabilities of a registered forecaster (``{}`` when it declares none)."""
    return dict(getattr(FORECASTERS.load(method), "tags", {}))


def seasonal_naive(y: np.ndarray, h: int, m: int, day: int, calendar: Calendar | None = None) -> np.ndarray:
    """The same slot one season ago (a baseline: ignores the calendar, as baselines should)."""
    return _seasonal_naive(y, h, m)


def median4(y: np.ndarray, h: int, m: int, day: int, calendar: Calendar | None = None) -> np.ndarray:
    """The median of the same slot over the last four seasons (a baseline; ignores the calendar)."""
    return _median4(y, h, m)


def predict(y: np.ndarray, h: int, method: str, day: int, week: int, calendar: Calendar | None = None) -> np.ndarray:
    """Forecast ``h`` steps after ``y`` with ``method``.

    The season is ``week`` when ``y`` holds two weeks, else ``day``. Forecasts are never
    negative (usage cannot be). With a ``calendar`` (covering ``y`` and the horizon), the
    ``profile`` method leaves past holidays out and forecasts holidays like Sundays; the
    baselines ignore it, as baselines should.
    """
    m = week if len(y) >= 2 * week else day
    out = FORECASTERS.load(method)(y, h, m, day, calendar)
    return np.maximum(out, 0.0)
