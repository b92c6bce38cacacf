"""One series' forecast: the method's values, intervals from its own past errors per day
of lead (empirical quantiles), and a Theil-Sen trend of daily means whose interval
decides whether usage is growing (for days to saturation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.contracts import Seasonality
from workbench.errors import ForecastError
from workbench.forecast.history import prepare_series, seasons, series_step
from workbench.forecast.methods import Calendar, predict, tags

__all__ = ["Forecast", "forecast_series", "trend"]


@dataclass
class Forecast:
    """A forecast for one series, with its interval, trend and notes.

    ``frame`` has ``yhat``, ``lower`` and ``upper`` on the future timestamps.
    """

    name: str
    history: pd.Series
    frame: pd.DataFrame
    method: str
    seasonality: Seasonality
    interval: float
    trend_per_day: float
    trend_low: float
    trend_high: float
    notes: list[str] = field(default_factory=list)

    @property
    def growing(self) -> bool:
        """Usage grows: the trend's confidence interval lies above zero."""
        return self.trend_low > 0


def trend(series: pd.Series, span: str = "28D", alpha: float = 0.9) -> tuple[float, float, float]:
    """Theil-Sen slope of daily means over the last ``span``, per day, with its ``alpha`` interval.

    Robust to an incident day or two; (0, 0, 0) with under a week of days.
    """
    from scipy.stats import theilslopes

    recent = series[series.index > series.index[-1] - pd.Timedelta(span)]
    daily = recent.resample("1D").mean().dropna()
    if len(daily) < 7 or daily.nunique() < 2:
        return 0.0, 0.0, 0.0
    days = (daily.index - daily.index[0]) / pd.Timedelta("1D")
    slope, _, low, high = theilslopes(daily.to_numpy(), np.asarray(days, dtype=float), alpha)
    return float(slope), float(low), float(high)


def _interval(y: np.ndarray, h: int, method: str, day: int, week: int, interval: float, every: int, calendar: Calendar | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper error quantiles per lead step, from the method's own past errors."""
    errors: list[np.ndarray] = []
    start = max(2 * day, len(y) - 8 * week)  # the last eight weeks of origins at most
    for origin in range(len(y) - day, start - 1, -every):
        horizon = min(h, len(y) - origin)
        past = predict(y[:origin], horizon, method, day, week, calendar)
        e = np.full(h, np.nan)
        e[:horizon] = y[origin : origin + horizon] - past
        errors.append(e)
    q_lo, q_hi = (1 - interval) / 2, 1 - (1 - interval) / 2
    lo, hi = np.zeros(h), np.zeros(h)
    table = np.vstack(errors) if errors else np.full((1, h), np.nan)
    by_day = np.arange(h) // day
    last_lo = last_hi = None
    for d in np.unique(by_day):
        cols = table[:, by_day == d]
        values = cols[np.isfinite(cols)]
        if values.size >= 20:
            last_lo, last_hi = np.quantile(values, q_lo), np.quantile(values, q_hi)
        elif last_lo is None:
            # Too little history for this lead: use the seasonal differences' spread.
            diffs = y[day:] - y[:-day]
            diffs = diffs[np.isfinite(diffs)]
            last_lo, last_hi = (np.quantile(diffs, q_lo), np.quantile(diffs, q_hi)) if diffs.size else (0.0, 0.0)
        lo[by_day == d], hi[by_day == d] = last_lo, last_hi
    return lo, hi


def forecast_series(
    series: pd.Series,
    horizon: str = "14D",
    method: str = "profile",
    interval: float = 0.9,
    resolution: str | None = "1h",
    holidays=(),
) -> Forecast:
    """Forecast one usage series with daily and weekly seasonality.

    Parameters
    ----------
    series
        Usage on a DatetimeIndex (any resolution at or below ``resolution``).
    horizon
        How far ahead (default 14 days).
    method
        A name registered in :data:`workbench._registry.FORECASTERS`.
    interval
        Coverage of the prediction interval (0.9: 5 % to 95 %).
    resolution
        Step of the forecast (``1h`` or ``15min``); ``None`` keeps the series' own.
    holidays
        Dates to treat as holidays (``profile`` only): left out of the history, and
        forecast like a Sunday when they lie ahead.

    Raises
    ------
    ForecastError
        Under two days of history (no daily cycle to learn), or no values at all.
    """
    if not 0 < interval < 1:
        raise ForecastError(f"interval must be in (0, 1), got {interval}")
    name = str(series.name or "series")
    clean, notes = prepare_series(series, resolution)
    step = series_step(clean)
    day, week = seasons(step)
    y = clean.to_numpy(dtype=float)
    if len(y) < 2 * day:
        raise ForecastError(f"{name}: {len(y) * step} of history is too short for any seasonality; need at least 2 days")
    if len(y) >= 2 * week:
        seasonality = Seasonality.DAILY_AND_WEEKLY
    else:
        seasonality = Seasonality.DAILY
        notes.append(f"daily seasonality only: {(len(y) * step) / pd.Timedelta('1D'):.3g} days of history, the weekly cycle needs 14")
    if np.nanmax(y) == np.nanmin(y):
        notes.append("constant series: the forecast is that constant")
    h = int(pd.Timedelta(horizon) / step)
    if h < 1:
        raise ForecastError(f"horizon {horizon} is shorter than the step {step}")
    calendar = Calendar.build(clean.index[0], step, len(y) + h, holidays) if len(holidays) else None
    if calendar is not None and calendar.holiday.any():
        holidays_seen = int(calendar.holiday.sum() // day)
        notes.append(f"{holidays_seen} holiday {'day' if holidays_seen == 1 else 'days'} treated like Sundays")
    yhat = predict(y, h, method, day, week, calendar)
    # The profile costs a millisecond per origin; MSTL a second, so it gets fewer origins.
    every = 2 * week if tags(method).get("slow") else max(1, day // 2)
    lo, hi = _interval(y, h, method, day, week, interval, every=every, calendar=calendar)
    future = pd.date_range(clean.index[-1] + step, periods=h, freq=step)
    frame = pd.DataFrame({"yhat": yhat, "lower": np.maximum(yhat + lo, 0.0), "upper": np.maximum(yhat + hi, yhat)}, index=future)
    slope, low, high = trend(clean)
    return Forecast(name, clean, frame, method, seasonality, interval, slope, low, high, notes)
