"""Preparing a series for forecasting: a regular grid at the forecast resolution, short
gaps interpolated, long gaps kept, negatives set to 0 (with notes), and its seasons.
"""

from __future__ import annotations

import pandas as pd

from workbench._util import infer_step, run_lengths, to_utc
from workbench.errors import ForecastError

__all__ = ["prepare_series", "seasons", "series_step"]


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
    values = pd.Series(values.to_numpy(), index=to_utc(values.index, what=f"{series.name or 'series'}: index")).sort_index()
    values = values.groupby(level=0).mean()
    if resolution is None:
        if len(values) < 2:
            raise ForecastError(f"{series.name or 'series'}: one sample is not a series")
        step = infer_step(values.index)
    else:
        step = pd.Timedelta(resolution)
    regular = values.resample(step).mean()
    negative = int((regular < 0).sum())
    if negative:
        notes.append(f"{negative} negative {'value' if negative == 1 else 'values'} set to 0 (usage cannot be negative)")
        regular = regular.clip(lower=0)
    gaps = int(regular.isna().sum())
    if gaps:
        # Only whole gaps of up to max_gap steps are filled (pandas' limit would fill
        # the first steps of a longer gap too).
        missing = regular.isna()
        _, run_length = run_lengths(missing)
        filled = regular.interpolate(limit_area="inside")
        regular = filled.where(~missing | (run_length <= max_gap))
        left = int(regular.isna().sum())
        if left:
            notes.append(f"{gaps} missing steps: {gaps - left} filled in, {left} left as gaps")
        else:
            notes.append(f"{gaps} missing {'step' if gaps == 1 else 'steps'}, filled in from the neighbouring values")
    regular.name = series.name
    return regular, notes


def series_step(series: pd.Series) -> pd.Timedelta:
    """The series' step: its index's frequency, else its most common step."""
    if series.index.freq is not None:
        return pd.Timedelta(series.index.freq)
    if len(series) < 2:
        raise ForecastError(f"{series.name or 'series'}: one sample is not a series")
    return infer_step(series.index)


def seasons(step: pd.Timedelta) -> tuple[int, int]:
    """Steps per day and per week for ``step``."""
    day = pd.Timedelta("1D") / step
    if day != int(day) or day < 1:
        raise ForecastError(f"a step of {step} does not divide a day")
    return int(day), int(day) * 7
