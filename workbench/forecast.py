"""Capacity forecasts with daily and weekly seasonality, honest backtests, and intervals.

Methods (all work on a regular series with NaN for gaps; ``day`` and ``week`` are the
number of steps in a day and a week at the series' resolution):

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
history, else a day (the result says so); under two days is an error.

Prediction intervals come from the method's own backtest errors on the series' history,
per day of lead time (empirical quantiles), so they are as wide as the method has really
been wrong. The trend is a Theil-Sen slope of daily means over the last four weeks; where
its confidence interval lies above zero, usage is growing and the capacity plan tells the
days until the forecast's upper band reaches what is provisioned.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.frames import DataError

__all__ = [
    "METHODS",
    "Calendar",
    "Forecast",
    "ForecastError",
    "backtest",
    "backtest_summary",
    "forecast_series",
    "predict",
    "prepare_series",
    "trend",
    "us_major_holidays",
]

METHODS = ("profile", "mstl", "seasonal_naive", "median4")
BASELINES = ("seasonal_naive", "median4")


class ForecastError(DataError):
    """A series that cannot be forecast (too short, empty); the message says why."""


# -- preparing a series ----------------------------------------------------------------
def prepare_series(series: pd.Series, resolution: str | None = None, max_gap: int = 3) -> tuple[pd.Series, list[str]]:
    """A regular, sorted, non-negative series and notes on what was done to it.

    Parameters
    ----------
    series
        Values on a DatetimeIndex (tz-naive taken as UTC); unsorted and duplicate
        timestamps are allowed (duplicates are averaged).
    resolution
        Resample to this step with the mean (``1h``, ``15min``); default: the series'
        most common step.
    max_gap
        Gaps up to this many steps are interpolated; longer ones stay NaN.

    Raises
    ------
    ForecastError
        An empty or all-NaN series, or one without a DatetimeIndex.
    """
    notes: list[str] = []
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ForecastError("a series to forecast needs a DatetimeIndex")
    values = pd.to_numeric(series, errors="coerce").astype(float)
    values = values[values.notna()]
    if values.empty:
        raise ForecastError(f"{series.name or 'series'}: no values to forecast (empty or all NaN)")
    index = values.index if values.index.tz is not None else values.index.tz_localize("UTC")
    values = pd.Series(values.to_numpy(), index=index.tz_convert("UTC")).sort_index()
    values = values.groupby(level=0).mean()
    if resolution is None:
        steps = values.index.to_series().diff().dropna()
        if steps.empty:
            raise ForecastError(f"{series.name or 'series'}: one sample is not a series")
        step = steps.mode().iloc[0]
    else:
        step = pd.Timedelta(resolution)
    regular = values.resample(step).mean()
    negative = int((regular < 0).sum())
    if negative:
        notes.append(f"{negative} negative values set to 0 (usage cannot be negative)")
        regular = regular.clip(lower=0)
    gaps = int(regular.isna().sum())
    if gaps:
        # Only whole gaps of up to max_gap steps are filled (pandas' limit would fill
        # the first steps of a longer gap too).
        missing = regular.isna()
        run_id = (missing != missing.shift()).cumsum()
        run_length = missing.groupby(run_id).transform("sum")
        filled = regular.interpolate(limit_area="inside")
        regular = filled.where(~missing | (run_length <= max_gap))
        left = int(regular.isna().sum())
        notes.append(f"{gaps} missing steps, {gaps - left} interpolated, {left} left as gaps")
    regular.name = series.name
    return regular, notes


def _step(series: pd.Series) -> pd.Timedelta:
    if series.index.freq is not None:
        return pd.Timedelta(series.index.freq)
    if len(series) < 2:
        raise ForecastError(f"{series.name or 'series'}: one sample is not a series")
    return pd.Timedelta(series.index[1] - series.index[0])


def seasons(step: pd.Timedelta) -> tuple[int, int]:
    """Steps per day and per week for ``step``."""
    day = pd.Timedelta("1D") / step
    if day != int(day) or day < 1:
        raise ForecastError(f"a step of {step} does not divide a day")
    return int(day), int(day) * 7


# -- methods (arrays in, arrays out) -------------------------------------------------------
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
    from pandas.tseries.holiday import AbstractHolidayCalendar, Holiday, USLaborDay, USMemorialDay, USThanksgivingDay

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
        raise ValueError("the calendar must cover the history and the horizon")
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


def predict(y: np.ndarray, h: int, method: str, day: int, week: int, calendar: Calendar | None = None) -> np.ndarray:
    """Forecast ``h`` steps after ``y`` with ``method``.

    The season is ``week`` when ``y`` holds two weeks, else ``day``. Forecasts are never
    negative (usage cannot be). With a ``calendar`` (covering ``y`` and the horizon), the
    ``profile`` method leaves past holidays out and forecasts holidays like Sundays; the
    baselines ignore it, as baselines should.
    """
    m = week if len(y) >= 2 * week else day
    if method == "profile" and calendar is not None and calendar.holiday[: len(y) + h].any():
        out = _holiday_profile(y, h, m, day, calendar)
    elif method == "profile":
        out = _profile(y, h, m, day)
    elif method == "mstl":
        out = _mstl(y, h, m, day)
    elif method == "seasonal_naive":
        out = _seasonal_naive(y, h, m)
    elif method == "median4":
        out = _median4(y, h, m)
    else:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    return np.maximum(out, 0.0)


# -- backtests -------------------------------------------------------------------------
def _scale(y: np.ndarray, m: int) -> float:
    """MASE's scale: the in-sample mean absolute error of the seasonal-naive forecast."""
    diffs = np.abs(y[m:] - y[:-m])
    diffs = diffs[np.isfinite(diffs)]
    return float(diffs.mean()) if diffs.size else float("nan")


def _smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    denom = np.abs(actual) + np.abs(forecast)
    ok = np.isfinite(actual) & np.isfinite(forecast)
    terms = np.where(denom[ok] > 0, 200 * np.abs(actual[ok] - forecast[ok]) / np.where(denom[ok] > 0, denom[ok], 1), 0.0)
    return float(terms.mean()) if terms.size else float("nan")


def backtest(
    series: pd.Series,
    horizons: dict[str, str] | None = None,
    initial: str = "28D",
    every: str = "84h",
    methods: tuple[str, ...] = ("profile", "seasonal_naive", "median4"),
    holidays=(),
) -> pd.DataFrame:
    """Rolling-origin backtest: from each origin, forecast each horizon from the history before it.

    Parameters
    ----------
    series
        A regular series (see :func:`prepare_series`).
    horizons
        Name to length, default ``{"1 day": "1D", "1 week": "7D"}``.
    initial
        History before the first origin.
    every
        Time between origins (84 h is half a week).
    methods
        Methods to score.
    holidays
        Dates the ``profile`` method treats as holidays (known in advance, so not a leak).

    Returns
    -------
    DataFrame
        One row per origin, horizon and method: ``mae``, ``scale`` (the in-sample
        seasonal-naive MAE at that origin, the same for every method) and ``mase``, ``smape``.

    Raises
    ------
    ForecastError
        No origin fits: the series is shorter than ``initial`` plus the shortest horizon.
    """
    horizons = horizons or {"1 day": "1D", "1 week": "7D"}
    step = _step(series)
    day, week = seasons(step)
    y = series.to_numpy(dtype=float)
    first = int(pd.Timedelta(initial) / step)
    stride = max(1, int(pd.Timedelta(every) / step))
    lengths = {name: int(pd.Timedelta(span) / step) for name, span in horizons.items()}
    longest = max(lengths.values())
    calendar = Calendar.build(series.index[0], step, len(y) + longest, holidays) if len(holidays) else None
    rows = []
    for origin in range(first, len(y), stride):
        history = y[:origin]
        m = week if len(history) >= 2 * week else day
        scale = _scale(history, m)
        fits = {name: h for name, h in lengths.items() if origin + h <= len(y) and np.isfinite(y[origin : origin + h]).sum() >= h // 2}
        if not fits:
            continue  # past the end, or a horizon mostly in a gap
        for method in methods:
            # One forecast per origin, scored on each horizon's prefix: every method's
            # path does not depend on how far it is asked to go.
            path = predict(history, min(longest, len(y) - origin), method, day, week, calendar)
            for name, h in fits.items():
                actual, forecast = y[origin : origin + h], path[:h]
                ok = np.isfinite(actual) & np.isfinite(forecast)
                mae = float(np.abs(actual[ok] - forecast[ok]).mean())
                rows.append(
                    {
                        "origin": series.index[origin],
                        "horizon": name,
                        "method": method,
                        "mae": mae,
                        "scale": scale,
                        "mase": mae / scale if scale > 0 else float("nan"),
                        "smape": _smape(actual, forecast),
                    }
                )
    if not rows:
        raise ForecastError(
            f"{series.name or 'series'}: too short to backtest ({len(y)} steps; need {initial} of history plus a horizon)"
        )
    return pd.DataFrame(rows)


def backtest_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean MASE and sMAPE per horizon and method, and each method's MASE relative to seasonal-naive.

    MASE is averaged over origins (each origin's error is scaled by that origin's own
    in-sample seasonal-naive error).
    """
    out = rows.groupby(["horizon", "method"], sort=False)[["mase", "smape"]].mean().reset_index()
    naive = out[out["method"] == "seasonal_naive"].set_index("horizon")["mase"]
    out["vs_seasonal_naive"] = out["mase"] / out["horizon"].map(naive)
    out["origins"] = rows.groupby(["horizon", "method"], sort=False).size().to_numpy()
    return out


# -- one series: forecast, intervals, trend ---------------------------------------------------
@dataclass
class Forecast:
    """A forecast for one series, with its interval, trend and notes.

    ``frame`` has ``yhat``, ``lower`` and ``upper`` on the future timestamps.
    """

    name: str
    history: pd.Series
    frame: pd.DataFrame
    method: str
    seasonality: str
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
        One of :data:`METHODS`.
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
    step = _step(clean)
    day, week = seasons(step)
    y = clean.to_numpy(dtype=float)
    if len(y) < 2 * day:
        raise ForecastError(f"{name}: {len(y) * step} of history is too short for any seasonality; need at least 2 days")
    if len(y) >= 2 * week:
        seasonality = "daily and weekly"
    else:
        seasonality = "daily only"
        notes.append(f"daily seasonality only: {len(y) * step} of history, weekly needs 14 days")
    if np.nanmax(y) == np.nanmin(y):
        notes.append("constant series: the forecast is that constant")
    h = int(pd.Timedelta(horizon) / step)
    if h < 1:
        raise ForecastError(f"horizon {horizon} is shorter than the step {step}")
    calendar = Calendar.build(clean.index[0], step, len(y) + h, holidays) if len(holidays) else None
    if calendar is not None and calendar.holiday.any():
        notes.append(f"{int(calendar.holiday.sum() // day)} holiday days treated like Sundays")
    yhat = predict(y, h, method, day, week, calendar)
    # The profile costs a millisecond per origin; MSTL a second, so it gets fewer origins.
    every = max(1, day // 2) if method != "mstl" else 2 * week
    lo, hi = _interval(y, h, method, day, week, interval, every=every, calendar=calendar)
    future = pd.date_range(clean.index[-1] + step, periods=h, freq=step)
    frame = pd.DataFrame({"yhat": yhat, "lower": np.maximum(yhat + lo, 0.0), "upper": np.maximum(yhat + hi, yhat)}, index=future)
    slope, low, high = trend(clean)
    return Forecast(name, clean, frame, method, seasonality, interval, slope, low, high, notes)
