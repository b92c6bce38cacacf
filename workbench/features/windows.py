"""From raw samples to analysis windows: a regular grid, honest gaps, per-metric aggregates.

Gaps are never filled silently: a run of missing samples is forward-filled only
when the whole run is at most ``max_fill`` long (a missed scrape or two); longer
runs stay missing so an exporter outage shows as a gap, not as a flat line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench._util import infer_step, run_lengths
from workbench.errors import DataError, ParameterError
from workbench.settings import parse_window

__all__ = ["AGGREGATIONS", "MAX_GRID_POINTS", "find_gaps", "infer_frequency", "regular_grid", "to_windows"]

#: The most points a regular grid may hold (per service): one sample a second for eight months,
#: or 1-minute samples for 38 years. More means the step was misread, not that the data are big.
MAX_GRID_POINTS = 20_000_000

#: How 1-minute samples become one window value. Latency tails and memory use the
#: window's worst value (a 3-minute p99 spike must survive aggregation); rates and
#: CPU use the mean.
AGGREGATIONS: dict[str, str] = {
    "request_rate": "mean",
    "error_rate": "mean",
    "latency_p95": "mean",
    "latency_p99": "max",
    "cpu_usage": "mean",
    "memory_usage": "max",
}


def _check_index(wide: pd.DataFrame) -> None:
    if wide.empty:
        raise DataError("no samples to work on (empty frame)")
    if not isinstance(wide.index, pd.DatetimeIndex) or wide.index.tz is None:
        raise DataError("expected a tz-aware DatetimeIndex (use workbench.contracts.to_wide)")
    if not wide.index.is_monotonic_increasing or wide.index.has_duplicates:
        raise DataError("timestamps must be sorted and unique (use workbench.contracts.validate_long)")


def infer_frequency(wide: pd.DataFrame) -> pd.Timedelta:
    """The sampling interval: the most common step between timestamps."""
    _check_index(wide)
    return infer_step(wide.index)


def _fill_short_runs(column: pd.Series, limit: int) -> pd.Series:
    missing = column.isna()
    if not missing.any() or limit <= 0:
        return column
    _, run_len = run_lengths(missing)
    fillable = missing & (run_len <= limit)
    return column.where(~fillable, column.ffill())


def regular_grid(wide: pd.DataFrame, freq: str | pd.Timedelta | None = None, max_fill: str = "5min") -> pd.DataFrame:
    """Put samples on a regular grid; forward-fill only gaps no longer than ``max_fill``.

    Parameters
    ----------
    wide
        One service's metrics, wide form, sorted unique UTC index.
    freq
        The grid step; default: inferred from the data.
    max_fill
        Longest run of missing samples that is filled from the last value.

    Returns
    -------
    pandas.DataFrame
        The same columns on a complete grid; longer gaps are NaN.
    """
    step = pd.Timedelta(freq) if freq is not None else infer_frequency(wide)
    first = wide.index[0].round(step)
    points = (wide.index[-1] - first) // step + 1
    if points > MAX_GRID_POINTS:
        raise DataError(
            f"a grid every {step} from {wide.index[0]} to {wide.index[-1]} would hold {points:,} points (at most "
            f"{MAX_GRID_POINTS:,}): the sampling interval looks wrong (timestamps in the wrong unit, or jittered "
            "sub-second stamps); resample the data, or check the timestamps"
        )
    snapped = wide.index.round(step)
    if not (snapped == wide.index).all():
        # Samples off the grid (scrape timestamps with jitter): each goes to its nearest grid
        # point; two landing on one point (jitter across a boundary) are averaged.
        wide = wide.groupby(snapped).mean()
    grid = pd.date_range(first, wide.index[-1], freq=step, name=wide.index.name)
    out = wide.reindex(grid)
    limit = int(pd.Timedelta(max_fill) // step)
    return out.apply(_fill_short_runs, limit=limit)


def find_gaps(wide: pd.DataFrame, freq: str | pd.Timedelta | None = None) -> pd.DataFrame:
    """Every run of missing samples: ``start``, ``end`` (first sample back), ``minutes``, ``metrics``.

    A run counts when any metric is missing; ``metrics`` names those missing
    throughout the run.
    """
    step = pd.Timedelta(freq) if freq is not None else infer_frequency(wide)
    grid = regular_grid(wide, step, max_fill="0min")
    missing = grid.isna()
    any_missing = missing.any(axis=1)
    if not any_missing.any():
        return pd.DataFrame(columns=["start", "end", "minutes", "metrics"])
    flags = np.concatenate([[False], any_missing.to_numpy(), [False]])
    edges = np.flatnonzero(np.diff(flags.astype(np.int8)))
    starts, stops = edges[::2], edges[1::2]  # half-open [start, stop) runs of missing rows
    values = missing.to_numpy()
    names = np.array(missing.columns)
    rows = [
        {
            "start": grid.index[i0],
            "end": grid.index[i0] + (i1 - i0) * step,
            "minutes": (i1 - i0) * step / pd.Timedelta("1min"),
            "metrics": ", ".join(names[values[i0:i1].all(axis=0)]) or "some",
        }
        for i0, i1 in zip(starts, stops)
    ]
    return pd.DataFrame(rows)


def to_windows(
    wide: pd.DataFrame,
    window: str,
    max_fill: str = "5min",
    min_coverage: float = 0.5,
) -> pd.DataFrame:
    """Aggregate samples into fixed windows labelled by their start.

    Parameters
    ----------
    wide
        One service's metrics, wide form.
    window
        Window width, e.g. ``"15min"``.
    max_fill
        Passed to :func:`regular_grid` first.
    min_coverage
        A window with fewer than this share of its samples present is NaN for that
        metric: an average of two samples is not a 15-minute figure.

    Returns
    -------
    pandas.DataFrame
        One row per window, columns as in ``wide``, aggregated per :data:`AGGREGATIONS`.
    """
    try:
        parse_window(window)
    except ValueError as exc:
        raise DataError(f"window: {exc}") from None
    if not 0 < min_coverage <= 1:
        raise ParameterError(f"min_coverage must be in (0, 1], got {min_coverage}")
    grid = regular_grid(wide, max_fill=max_fill)
    step = infer_frequency(wide)
    per_window = pd.Timedelta(window) / step
    if per_window < 1:
        raise DataError(f"window {window} is shorter than the sampling interval {step}")
    resampler = grid.resample(window, label="left", closed="left")
    out = resampler.agg({c: AGGREGATIONS.get(c, "mean") for c in grid.columns})
    coverage = resampler.count() / per_window
    return out.where(coverage >= min_coverage)
