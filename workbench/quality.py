"""Data-quality checks on long-form metrics, applied to every source as it is read.

Real exports are untidy: an exporter writes ``+Inf``, a sign flips, an error ratio is a
fraction of 1 where a percentage is due, a query returns a raw counter instead of its
rate. A wrong value the workbench stores and trains on does more harm than a gap, so:

- **impossible values become gaps, with a note**: ``±inf``; a negative value of any
  canonical metric (rates, latencies and usage shares cannot be negative); an error
  rate above 100 %. The note (a :class:`~workbench.errors.DataWarning`) names the
  series, how many samples and an example, so a report shows where data were left out;
- **a cumulative counter is refused**: a request rate or CPU series that only ever rises
  (with an occasional reset to near zero, as a restarted process's counter does) over
  hours is a ``*_total`` counter, not a rate; every figure built on it would be absurd
  (a capacity plan of millions of replicas). The error names the series and the fix.

:func:`missing_metrics` names the canonical metrics a service lacks altogether, for the
steps that would silently do without them (the model, the capacity plan).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from workbench.errors import DataError, DataWarning

__all__ = ["COUNTER_CHECKED", "UPPER_BOUNDS", "check_values", "find_counters", "missing_metrics"]

#: The most a metric can be (its unit is a percentage of a whole); others have no upper bound.
UPPER_BOUNDS = {"error_rate": 100.0}
#: Metrics whose raw exporter series is a counter (``http_requests_total``, ``cpu_seconds_total``).
COUNTER_CHECKED = ("request_rate", "cpu_usage")
#: A series must rise in at least this share of its changing steps over at least
#: ``COUNTER_SPAN`` to be taken for a counter: a real rate falls as often as it rises.
COUNTER_SHARE = 0.99
COUNTER_SPAN = pd.Timedelta("6h")
#: A fall to below this share of the previous value is a counter reset (a restart), not a fall;
#: restarts are occasional, so a series falling like that in more than ``MAX_RESETS`` of its
#: steps (a daily sawtooth of hourly samples) is a pattern, not a counter.
RESET_SHARE = 0.5
MAX_RESETS = 0.02


def _example(values: pd.Series) -> str:
    return f"e.g. {values.iloc[0]:g} at {values.index[0]:%Y-%m-%d %H:%M}"


def check_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn impossible values into gaps (dropped rows), warning once per series; refuse counters.

    Parameters
    ----------
    frame
        Long form, ``timestamp, service, metric, value`` (value float, timestamps UTC).

    Returns
    -------
    DataFrame
        ``frame`` without the impossible rows.

    Raises
    ------
    DataError
        A request-rate or CPU series is a cumulative counter (see the module notes).
    """
    values = frame["value"].to_numpy(dtype=float)
    infinite = np.isinf(values)
    negative = ~infinite & (values < 0)
    too_high = np.zeros(len(values), dtype=bool)
    metrics = frame["metric"].to_numpy()
    for metric, bound in UPPER_BOUNDS.items():
        too_high |= (values > bound) & (metrics == metric)
    bad = infinite | negative | too_high
    if bad.any():
        notes = []
        flagged = frame.assign(_why=np.select([infinite, negative, too_high], ["infinite", "negative", "above 100 %"], ""))[bad]
        for (service, metric, why), rows in flagged.groupby(["service", "metric", "_why"], sort=True):
            sample = rows.set_index("timestamp")["value"]
            notes.append(f"{service} {metric}: {len(rows)} {why} value(s) ({_example(sample)})")
        warnings.warn(
            "impossible values were left out as gaps: " + "; ".join(notes) + ". Check the exporter or the query (units, sign).",
            DataWarning,
            stacklevel=3,
        )
        frame = frame[~bad]
    counters = find_counters(frame)
    if counters:
        raise DataError(
            "these series only ever rise, as a cumulative counter does: "
            + "; ".join(counters)
            + ". Give their rate instead (in PromQL, sum(rate(http_requests_total[5m])); in a file, the per-second "
            "difference); nothing was read"
        )
    return frame


def find_counters(frame: pd.DataFrame) -> list[str]:
    """Descriptions of the request-rate and CPU series in ``frame`` that look like cumulative counters."""
    found = []
    checked = frame[frame["metric"].isin(COUNTER_CHECKED)]
    for (service, metric), rows in checked.groupby(["service", "metric"], sort=True):
        rows = rows.sort_values("timestamp")
        stamps, values = rows["timestamp"], rows["value"].to_numpy(dtype=float)
        if len(values) < 30 or stamps.iloc[-1] - stamps.iloc[0] < COUNTER_SPAN:
            continue
        steps = np.diff(values)
        previous = values[:-1]
        resets = (steps < 0) & (values[1:] < RESET_SHARE * previous)
        moving = steps[(steps != 0) & ~resets]
        if len(moving) < 20 or (moving > 0).mean() < COUNTER_SHARE or resets.mean() > MAX_RESETS:
            continue
        reset_note = f", with {int(resets.sum())} reset(s) to near zero" if resets.any() else ""
        found.append(
            f"{service} {metric} rises in {(moving > 0).mean():.0%} of its changing steps from {values[0]:g} to {values[-1]:g} "
            f"over {stamps.iloc[-1] - stamps.iloc[0]}{reset_note}"
        )
    return found


def missing_metrics(wide: pd.DataFrame, expected) -> list[str]:
    """The metrics of ``expected`` that ``wide`` (one service, wide form) lacks or holds only gaps of."""
    return [m for m in expected if m not in wide.columns or wide[m].isna().all()]
