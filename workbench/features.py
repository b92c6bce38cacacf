"""From raw samples to analysis windows: a regular grid, honest gaps, per-metric aggregates.

Gaps are never filled silently: a run of missing samples is forward-filled only
when the whole run is at most ``max_fill`` long (a missed scrape or two); longer
runs stay missing so an exporter outage shows as a gap, not as a flat line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.config import parse_window
from workbench.frames import DataError

__all__ = [
    "AGGREGATIONS",
    "BAD_SIDE",
    "ServiceFeatures",
    "context_flags",
    "find_gaps",
    "infer_frequency",
    "regular_grid",
    "remove_incidents",
    "remove_planned",
    "to_windows",
]

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
        raise DataError("expected a tz-aware DatetimeIndex (use workbench.frames.to_wide)")
    if not wide.index.is_monotonic_increasing or wide.index.has_duplicates:
        raise DataError("timestamps must be sorted and unique (use workbench.frames.validate_long)")


def infer_frequency(wide: pd.DataFrame) -> pd.Timedelta:
    """The sampling interval: the most common step between timestamps."""
    _check_index(wide)
    if len(wide) < 2:
        raise DataError("need at least two samples to tell the sampling interval")
    # Differences of the index itself: its unit (ns, us, s) varies with the source.
    steps = pd.Series(wide.index[1:] - wide.index[:-1])
    return pd.Timedelta(steps.mode().iloc[0])


def _fill_short_runs(column: pd.Series, limit: int) -> pd.Series:
    missing = column.isna()
    if not missing.any() or limit <= 0:
        return column
    run_id = (missing != missing.shift()).cumsum()
    run_len = missing.groupby(run_id).transform("size")
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
    grid = pd.date_range(wide.index[0].floor(step), wide.index[-1], freq=step, name=wide.index.name)
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
    window: str = "15min",
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
        raise ValueError(f"min_coverage must be in (0, 1], got {min_coverage}")
    grid = regular_grid(wide, max_fill=max_fill)
    step = infer_frequency(wide)
    per_window = pd.Timedelta(window) / step
    if per_window < 1:
        raise DataError(f"window {window} is shorter than the sampling interval {step}")
    resampler = grid.resample(window, label="left", closed="left")
    out = resampler.agg({c: AGGREGATIONS.get(c, "mean") for c in grid.columns})
    coverage = resampler.count() / per_window
    return out.where(coverage >= min_coverage)


# --- model features ----------------------------------------------------------------------------

#: Metrics that vary multiplicatively (residuals on a log scale); the rest are percentages.
_LOG_METRICS = ("request_rate", "latency_p95", "latency_p99")

#: Which side of each z-feature is bad news. Faster responses, fewer errors or memory freed by
#: a restart are not incidents; traffic is bad news both ways (a drop, or a surge nobody planned).
BAD_SIDE: dict[str, str] = {
    "request_rate_z": "both",
    "error_rate_z": "high",
    "latency_p95_z": "high",
    "latency_p99_z": "high",
    "cpu_usage_z": "high",
    "memory_usage_z": "high",
    "cpu_excess_z": "high",
    "memory_trend_z": "high",
    "worst_z": "high",
    "sustained_z": "high",
}


def bad_deviation(values: pd.Series, side: str) -> pd.Series:
    """The part of a z-score that is bad news: ``|z|`` for ``both``, else the positive part."""
    return values.abs() if side == "both" else values.clip(lower=0)
_Z_CAP = 1000.0  # only guards against infinities; extremes must stay extreme


def remove_incidents(windows: pd.DataFrame, incidents: pd.DataFrame, margin: str = "1h") -> pd.DataFrame:
    """``windows`` without those overlapping an incident widened by ``margin`` on each side.

    Labelled incidents must not teach the model what normal looks like.
    """
    keep = np.ones(len(windows), dtype=bool)
    width = pd.Timedelta(margin)
    starts = windows.index
    ends = windows.index + (windows.index[1] - windows.index[0] if len(windows) > 1 else pd.Timedelta("15min"))
    for row in incidents.itertuples():
        keep &= ~((starts < row.end + width) & (ends > row.start - width))
    return windows[keep]


def remove_planned(windows: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """``windows`` without campaign and maintenance windows: planned, so neither normal nor incidents."""
    flags = context_flags(windows.index, events)
    return windows[(flags["campaign"] == 0) & (flags["maintenance"] == 0)]


def context_flags(index: pd.DatetimeIndex, events: pd.DataFrame, window: str = "15min") -> pd.DataFrame:
    """Per window: hour, weekday, business hours, and whether a deploy, campaign or maintenance touches it.

    A deploy counts for the window it lands in and the next one (rollouts take minutes).
    """
    width = pd.Timedelta(window)
    out = pd.DataFrame(index=index)
    out["hour"] = index.hour
    out["weekday"] = index.day_of_week
    out["business_hours"] = ((index.day_of_week < 5) & (index.hour >= 9) & (index.hour < 18)).astype(int)
    for kind in ("deploy", "campaign", "maintenance"):
        rows = events[events["type"] == kind] if not events.empty else events
        flag = np.zeros(len(index), dtype=int)
        for ev in rows.itertuples():
            end = ev.end + (width if kind == "deploy" else pd.Timedelta(0))
            flag |= ((index < end) & (index + width > ev.start)).astype(int)
        out[kind] = flag
    return out


class ServiceFeatures:
    """Window features for the model: seasonal residuals, cross-metric excess, trends, context.

    ``fit`` learns, from normal training windows only, the median and robust spread
    of each metric per (weekday or weekend, hour) slot, and how CPU follows traffic.
    ``transform`` turns windows into features, all in robust z units:

    * ``<metric>_z``: residual against the slot's median (log scale for traffic and
      latency), in units of the slot's robust spread;
    * ``cpu_excess_z``: CPU above what the traffic explains (a runaway job at night);
    * ``memory_trend_z``: memory change over the last 2 hours (a leak creeps);
    * ``worst_z``: the largest bad-side deviation of any metric (see :data:`BAD_SIDE`);
    * ``sustained_z``: the largest 1-hour mean bad-side deviation of any metric;
    * ``hour``, ``weekday``, ``business_hours``, ``deploy``, ``campaign``, ``maintenance``.

    A window with a missing metric gets NaN features and is not scored.

    Parameters
    ----------
    trend_windows : int
        Windows over which the memory trend is taken (8 x 15 min = 2 h).
    sustain_windows : int
        Windows averaged for ``sustained_z`` (4 x 15 min = 1 h).
    """

    def __init__(self, trend_windows: int = 8, sustain_windows: int = 4):
        self.trend_windows = trend_windows
        self.sustain_windows = sustain_windows

    def _values(self, windows: pd.DataFrame) -> pd.DataFrame:
        v = windows.copy()
        for m in _LOG_METRICS:
            if m in v:
                v[m] = np.log1p(v[m].clip(lower=0))
        return v

    @staticmethod
    def _slot(index: pd.DatetimeIndex) -> np.ndarray:
        return (index.day_of_week >= 5).astype(int) * 24 + index.hour

    def fit(self, windows: pd.DataFrame, events: pd.DataFrame | None = None, normal: pd.Series | None = None) -> ServiceFeatures:
        """Learn slot baselines from the normal windows.

        Parameters
        ----------
        windows
            Contiguous windows (trends are differences between neighbouring windows,
            so removed periods must not be cut out before they are computed).
        normal
            True for windows to learn from (incidents and planned events are False);
            default: all.

        Raises
        ------
        DataError
            Fewer than 7 days of complete normal windows.
        """
        empty = [c for c in windows.columns if windows[c].isna().all()]
        if empty:
            raise DataError(f"metric(s) {empty} have no values at all; fix the source or drop them from the query")
        normal = normal if normal is not None else pd.Series(True, index=windows.index)
        clean = windows[normal.reindex(windows.index).fillna(False).to_numpy(dtype=bool)].dropna()
        if clean.empty or clean.index[-1] - clean.index[0] < pd.Timedelta(days=7):
            raise DataError(
                "need at least 7 days of complete windows to learn daily and weekly baselines; "
                f"got {len(clean)} windows"
            )
        self.metrics_ = list(windows.columns)
        v = self._values(clean)
        slot = self._slot(clean.index)
        grouped = v.groupby(slot)
        self.median_ = grouped.median()
        spread = (v - self.median_.reindex(slot).to_numpy()).abs().groupby(slot).median() * 1.4826
        overall = (v - v.median()).abs().median() * 1.4826
        # A slot's spread never falls below a quarter of the metric's overall spread, nor to
        # zero. Deliberately conservative (measured in benchmarks/RESULTS.md): a floor relative
        # to the typical slot's spread caught one more traffic drop but raised false alerts more.
        floor = np.maximum(overall * 0.25, 1e-6 * (v.abs().median() + 1))
        self.spread_ = spread.clip(lower=floor, axis=1)
        # Fall-back for slots unseen in training (e.g. no weekend yet): the metric's overall level.
        self.overall_median_ = v.median()
        self.overall_spread_ = np.maximum(overall, floor)
        if "cpu_usage" in v and "request_rate" in v:
            slope, intercept = np.polyfit(clean["request_rate"], clean["cpu_usage"], 1)
            residual = clean["cpu_usage"] - (intercept + slope * clean["request_rate"])
            self.cpu_fit_ = (float(slope), float(intercept), float(max(np.median(np.abs(residual)) * 1.4826, 0.5)))
        else:
            self.cpu_fit_ = None
        if "memory_usage" in clean:
            trend = windows["memory_usage"].diff(self.trend_windows).reindex(clean.index).dropna()
            self.memory_trend_spread_ = float(max(np.median(np.abs(trend)) * 1.4826, 0.1))
        self.feature_names_ = list(self.transform(windows.iloc[:2], events).columns)
        return self

    def transform(self, windows: pd.DataFrame, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Features per window (NaN where a metric is missing); causal: only past windows are used."""
        absent = [m for m in self.metrics_ if m not in windows.columns]
        if absent:
            raise DataError(f"metric(s) {absent} were in the training data but are missing now")
        v = self._values(windows[self.metrics_])
        slot = self._slot(windows.index)
        median = self.median_.reindex(slot).set_axis(windows.index)
        spread = self.spread_.reindex(slot).set_axis(windows.index)
        median = median.fillna(self.overall_median_)
        spread = spread.fillna(self.overall_spread_)
        out = ((v - median) / spread).clip(-_Z_CAP, _Z_CAP).add_suffix("_z")
        if self.cpu_fit_ is not None:
            slope, intercept, scale = self.cpu_fit_
            excess = (windows["cpu_usage"] - (intercept + slope * windows["request_rate"])) / scale
            out["cpu_excess_z"] = excess.clip(-_Z_CAP, _Z_CAP)
        if "memory_usage" in windows:
            trend = windows["memory_usage"].diff(self.trend_windows) / self.memory_trend_spread_
            out["memory_trend_z"] = trend.clip(-_Z_CAP, _Z_CAP)
        # The largest deviation of any one metric: a window extreme in a single metric
        # (an error burst) must stand out to the forest as much as one odd in several.
        bad = pd.DataFrame({c: bad_deviation(out[c], BAD_SIDE.get(c, "both")) for c in out.columns})
        out["worst_z"] = bad.max(axis=1, skipna=False)
        # Sustained deviation: the largest 1-hour mean bad-side deviation of any metric. Noise
        # averages out over four windows; a creeping dependency or a partial outage does not.
        # (A rolling minimum, which forgets a lone spike sooner, measured worse on the sample.)
        out["sustained_z"] = bad.rolling(self.sustain_windows, min_periods=self.sustain_windows).mean().max(axis=1, skipna=False)
        flags = context_flags(windows.index, events if events is not None else pd.DataFrame(columns=["type"]))
        return pd.concat([out, flags], axis=1)
