"""A service's model features: seasonal residuals, cross-metric excess, trends and context,
in robust z units (:class:`ServiceFeatures`), and which side of each is bad news.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from workbench._util import MAD_TO_SIGMA, infer_step
from workbench.contracts import Side
from workbench.errors import DataError, ParameterError
from workbench.features.context import context_flags

__all__ = ["BAD_SIDE", "FEATURE_CONTEXT", "SUMMARY_FEATURES", "ServiceFeatures", "bad_deviation", "pool_reach"]

# --- model features ----------------------------------------------------------------------------

#: Metrics that vary multiplicatively (residuals on a log scale); the rest are percentages.
_LOG_METRICS = ("request_rate", "latency_p95", "latency_p99")

#: Which side of each z-feature is bad news. Faster responses, fewer errors or memory freed by
#: a restart are not incidents; traffic is bad news both ways (a drop, or a surge nobody planned).
BAD_SIDE: dict[str, Side] = {
    "request_rate_z": Side.BOTH,
    "error_rate_z": Side.HIGH,
    "latency_p95_z": Side.HIGH,
    "latency_p99_z": Side.HIGH,
    "cpu_usage_z": Side.HIGH,
    "memory_usage_z": Side.HIGH,
    "cpu_excess_z": Side.HIGH,
    "memory_trend_z": Side.HIGH,
    "worst_z": Side.HIGH,
    "sustained_z": Side.HIGH,
}


#: History a window's features look back on (trends, the sustained deviation): transform at least
#: this much before the first window that needs features.
FEATURE_CONTEXT = pd.Timedelta(hours=6)

#: Features that summarise the others (the worst deviation of any metric, now and over an hour):
#: they move whenever any metric does, so a drift check looks at the metrics' own features.
SUMMARY_FEATURES: tuple[str, ...] = ("worst_z", "sustained_z")


def bad_deviation(values: pd.Series, side: Side | str) -> pd.Series:
    """The part of a z-score that is bad news: ``|z|`` for ``both``, the positive part for
    ``high``, the negative part (as a magnitude) for ``low``. An unknown side is a ParameterError."""
    try:
        side = Side(side)
    except ValueError:
        raise ParameterError(f"unknown side {side!r}; expected one of {[s.value for s in Side]}") from None
    return side.magnitude(values)


def pool_reach(width: pd.Timedelta) -> int:
    """Slots pooled on each side of a slot of ``width``: enough for at least an hour in all.

    1 for 20 to 59 minutes (3 slots: 60 to 177 minutes), 2 for 15 minutes, 6 for 5, 30 for 1;
    0 from an hour up.
    """
    ratio = pd.Timedelta(hours=1) / width
    return math.ceil((ratio - 1) / 2 - 1e-9) if ratio > 1 else 0


_Z_CAP = 1000.0  # only guards against infinities; extremes must stay extreme


def _check_windows(windows) -> None:
    if not isinstance(windows, pd.DataFrame) or not isinstance(windows.index, pd.DatetimeIndex):
        raise DataError(
            f"ServiceFeatures works on windows: a DataFrame of metrics with a DatetimeIndex "
            f"(see workbench.features.windows.to_windows), got {type(windows).__name__}"
        )


class ServiceFeatures(TransformerMixin, BaseEstimator):
    """Window features for the model: seasonal residuals, cross-metric excess, trends, context.

    ``fit`` learns, from normal training windows only, the median of each metric per slot
    (weekday or weekend, and the window's time of day, pooled over about half an hour either
    side: :func:`pool_reach`), the robust spread around it per time of day over every day
    (weekdays and weekends together), and how CPU follows traffic.
    ``transform`` turns windows into features, all in robust z units:

    * ``<metric>_z``: residual against the slot's median (log scale for traffic and
      latency), in units of the robust spread at its time of day;
    * ``cpu_excess_z``: CPU above what the traffic explains (a runaway job at night);
    * ``memory_trend_z``: memory change over the last 2 hours (a leak creeps);
    * ``worst_z``: the largest bad-side deviation of any metric (see :data:`BAD_SIDE`);
    * ``sustained_z``: the largest 1-hour mean bad-side deviation of any metric;
    * ``hour``, ``weekday``, ``business_hours``, ``deploy``, ``campaign``, ``maintenance``.

    A window with a missing metric gets NaN features and is not scored.

    Parameters
    ----------
    trend_windows : int
        Windows over which the memory trend is taken (8 windows: 2 h at 15 minutes).
    sustain_windows : int
        Windows averaged for ``sustained_z`` (4 windows: 1 h at 15 minutes).
    slot_width : str or None
        Width of a baseline slot within the day (a pandas duration from ``"1min"`` to
        ``"1D"``), never narrower than the windows; by default the window width. Slots
        narrower than an hour pool the slots within half an hour either side. ``"1h"`` gives
        hourly slots, as before window slots.
    """

    def __init__(self, trend_windows: int = 8, sustain_windows: int = 4, slot_width: str | None = None) -> None:
        self.trend_windows = trend_windows
        self.sustain_windows = sustain_windows
        self.slot_width = slot_width

    def _values(self, windows: pd.DataFrame) -> pd.DataFrame:
        v = windows.copy()
        for m in _LOG_METRICS:
            if m in v:
                v[m] = np.log1p(v[m].clip(lower=0))
        return v

    def __setstate__(self, state):
        super().__setstate__(state)
        # Models pickled before window slots had hourly slots and none of these attributes; the
        # first window-slot models had slots_per_day_ alone. The width follows from the count.
        windowed = "slots_per_day_" in self.__dict__
        self.__dict__.setdefault("slot_width", None if windowed else "1h")
        if "median_" in self.__dict__:
            self.__dict__.setdefault("slots_per_day_", 24)
            self.__dict__.setdefault("slot_width_", pd.Timedelta(days=1) / self.slots_per_day_)

    def _slot_width(self) -> pd.Timedelta:
        """The configured slot width, checked: a duration with a unit, from a minute to a day."""
        if self.slot_width is None:
            return self.window_
        try:
            width = pd.Timedelta(self.slot_width) if isinstance(self.slot_width, str) else None
        except ValueError:
            width = None
        if width is None or not pd.Timedelta(minutes=1) <= width <= pd.Timedelta(days=1):
            raise ParameterError(f"slot_width must be a duration from '1min' to '1D' such as '15min' or '1h', got {self.slot_width!r}")
        return width

    def _slot(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Weekday or weekend, and the slot of the day a window starts in, by the wall clock."""
        # Wall-clock time of day: on a day with a daylight-saving change, elapsed time since
        # midnight would run past the last slot (or fail where midnight does not exist).
        local = index.tz_localize(None) if index.tz is not None else index
        place = np.asarray((local - local.normalize()) // self.slot_width_, dtype=int)
        return (local.day_of_week >= 5).astype(int) * self.slots_per_day_ + place

    def _pools(self, slot: np.ndarray) -> dict[int, np.ndarray]:
        """Per slot, the rows it pools: those of the slots within half an hour either side.

        Centred, so a level that rises or falls through the hour (traffic in the evening) is
        judged against its own time of day, not the hour's middle; at least an hour of windows
        (:func:`pool_reach`), as many as an hourly slot held, so the baseline is no noisier. The
        pool wraps around midnight within the same kind of day (weekday 00:00 pools weekday
        23:45). Centred on a bend in the daily shape (traffic starting to fall), the median
        lags the bend a little: a deviation there reads somewhat larger than elsewhere.
        """
        per_day, reach = self.slots_per_day_, pool_reach(self.slot_width_)
        order = np.argsort(slot, kind="stable")
        keys, starts = np.unique(slot[order], return_index=True)
        rows_of = {int(k): order[a:e] for k, a, e in zip(keys, starts, [*starts[1:], len(order)])}
        pools = {}
        for kind in range(2):
            for place in range(per_day):
                near = [rows_of[k] for o in range(-reach, reach + 1) if (k := kind * per_day + (place + o) % per_day) in rows_of]
                if near:
                    pools[kind * per_day + place] = np.concatenate(near)
        return pools

    @staticmethod
    def _pooled(pools: dict[int, np.ndarray], values: pd.DataFrame) -> pd.DataFrame:
        """Per key, the median of ``values`` over the rows :meth:`_pools` gives for it."""
        data = values.to_numpy(dtype=float)
        medians = {k: np.median(data[rows], axis=0) for k, rows in pools.items()}
        return pd.DataFrame.from_dict(medians, orient="index", columns=values.columns).sort_index()

    def fit(self, windows: pd.DataFrame, y=None, *, events: pd.DataFrame | None = None, normal: pd.Series | None = None) -> ServiceFeatures:
        """Learn slot baselines from the normal windows.

        Parameters
        ----------
        windows
            Contiguous windows (trends are differences between neighbouring windows,
            so removed periods must not be cut out before they are computed).
        y
            Ignored (scikit-learn's place for labels; the events calendar is a keyword).
        events
            The events calendar (deploys, campaigns, maintenance) for the context flags.
        normal
            True for windows to learn from (incidents and planned events are False);
            default: all.

        Raises
        ------
        DataError
            Fewer than 7 days of complete normal windows.
        """
        _check_windows(windows)
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
        # The width of the windows (config.window as the data carries it), for context flags.
        self.window_ = infer_step(windows.index)
        self.slot_width_ = max(self._slot_width(), self.window_)
        self.slots_per_day_ = math.ceil(pd.Timedelta(days=1) / self.slot_width_)
        v = self._values(clean)
        slot = self._slot(clean.index)
        pools = self._pools(slot)
        self.median_ = self._pooled(pools, v)
        deviation = (v - self.median_.reindex(slot).to_numpy()).abs()
        # The level is per kind of day; how far a window strays from its kind's level is learnt
        # per time of day over every day (the slots taken modulo the day pool both kinds).
        # Weekends are two days in seven, and a spread from few values is biased low: from the
        # four weekend days of a 14-day history (memory moves about once a day) it came out
        # 0.6-0.9 of its weekday twin's, and an ordinary Saturday read memory 4-6 sigmas high.
        # The price: where weekends really are calmer, a weekday's spread is pulled toward theirs.
        per_day = self.slots_per_day_
        by_time = self._pooled(self._pools(slot % per_day), deviation) * MAD_TO_SIGMA
        spread = by_time.reindex(self.median_.index % per_day).set_axis(self.median_.index)
        overall = (v - v.median()).abs().median() * MAD_TO_SIGMA
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
            self.cpu_fit_ = (float(slope), float(intercept), float(max(np.median(np.abs(residual)) * MAD_TO_SIGMA, 0.5)))
        else:
            self.cpu_fit_ = None
        if "memory_usage" in clean:
            trend = windows["memory_usage"].diff(self.trend_windows).reindex(clean.index).dropna()
            self.memory_trend_spread_ = float(max(np.median(np.abs(trend)) * MAD_TO_SIGMA, 0.1))
        self.feature_names_ = list(self.transform(windows.iloc[:2], events=events).columns)
        return self

    def fit_transform(self, windows: pd.DataFrame, y=None, *, events: pd.DataFrame | None = None, normal: pd.Series | None = None) -> pd.DataFrame:
        """``fit`` then ``transform`` on the same windows, with the same events calendar."""
        return self.fit(windows, events=events, normal=normal).transform(windows, events=events)

    def transform(self, windows: pd.DataFrame, *, events: pd.DataFrame | None = None) -> pd.DataFrame:
        """Features per window (NaN where a metric is missing); causal: only past windows are used."""
        check_is_fitted(self, "median_")
        _check_windows(windows)
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
        bad = pd.DataFrame({c: bad_deviation(out[c], BAD_SIDE.get(c, Side.BOTH)) for c in out.columns})
        out["worst_z"] = bad.max(axis=1, skipna=False)
        # Sustained deviation: the largest 1-hour mean bad-side deviation of any metric. Noise
        # averages out over four windows; a creeping dependency or a partial outage does not.
        # (A rolling minimum, which forgets a lone spike sooner, measured worse on the sample.)
        out["sustained_z"] = bad.rolling(self.sustain_windows, min_periods=self.sustain_windows).mean().max(axis=1, skipna=False)
        flags = context_flags(windows.index, events if events is not None else pd.DataFrame(columns=["type"]), self.window_)
        return pd.concat([out, flags], axis=1)
