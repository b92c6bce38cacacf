"""The data contracts of the team design (``../shared/DESIGN.md``): check a metrics frame, and move between long and wide form.

Long form: ``timestamp`` (UTC, tz-aware), ``service``, ``metric``, ``value``
(float). Wide form, for one service: a UTC ``DatetimeIndex`` named
``timestamp`` and one float column per canonical metric.

Handling of untidy input, the same for every source:

* tz-naive timestamps are taken as UTC; other zones are converted to UTC;
* unsorted rows are sorted;
* exact duplicate rows are dropped; the same (service, metric, timestamp) with
  two different values is an error (which one is right cannot be known);
* NaN values are dropped: a missing sample is an absent row, a gap;
* an empty frame, a missing column, a non-numeric value or an unknown metric is
  an error.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from workbench._util import infer_step, to_utc
from workbench.errors import ConflictingSamplesError, DataError
from workbench.quality import check_values

__all__ = [
    "ALERT_COLUMNS",
    "AlertAction",
    "AlertSource",
    "CapacityAction",
    "NotebookStatus",
    "RULE_ACTIONS",
    "RuleOp",
    "Seasonality",
    "Side",
    "CANONICAL_METRICS",
    "CAPACITY_RESOURCES",
    "EVENT_COLUMNS",
    "INCIDENT_COLUMNS",
    "LONG_COLUMNS",
    "METRIC_UNITS",
    "to_wide",
    "validate_long",
]

#: The metric names every source maps onto (DESIGN.md, "Data contracts").
CANONICAL_METRICS: tuple[str, ...] = (
    "request_rate",
    "error_rate",
    "latency_p95",
    "latency_p99",
    "cpu_usage",
    "memory_usage",
)

METRIC_UNITS: dict[str, str] = {
    "request_rate": "req/s",
    "error_rate": "%",
    "latency_p95": "ms",
    "latency_p99": "ms",
    "cpu_usage": "%",
    "memory_usage": "%",
}

#: The resources a capacity plan covers; CPU and memory are percentages of what is provisioned.
CAPACITY_RESOURCES: tuple[str, ...] = ("cpu_usage", "memory_usage", "request_rate")


# Modes as enums: a typo is an error (``Side("hgih")`` raises ValueError), never a silently
# different run. StrEnum members equal their values, so frames and JSON read the same.
class AlertAction(StrEnum):
    """What an alert asks of a person (DESIGN.md, "Alerts")."""

    PAGE = "page"
    INVESTIGATE = "investigate"
    PAGE_WITH_CONTEXT = "page_with_context"


class AlertSource(StrEnum):
    """Which verdicts raised an alert."""

    RULE = "rule"
    MODEL = "model"
    BOTH = "both"


class RuleOp(StrEnum):
    """A static rule's comparison."""

    ABOVE = ">"
    BELOW = "<"
    #: Fell by more than ``threshold`` percent against the same minute a week earlier.
    DROP_PCT = "drop_pct"


#: What a rule may ask for when it fires (``page_with_context`` is the policy's, for rule and model together).
RULE_ACTIONS = (AlertAction.PAGE, AlertAction.INVESTIGATE)


class Side(StrEnum):
    """Which side of a deviation is bad news."""

    HIGH = "high"
    LOW = "low"
    BOTH = "both"

    def magnitude(self, values):
        """The bad-news part of deviations (an array or Series), as a magnitude >= 0:
        ``|v|`` for ``both``, the positive part for ``high``, the negative part for ``low``."""
        if self is Side.BOTH:
            return np.abs(values)
        return np.maximum(values if self is Side.HIGH else -values, 0.0)


class NotebookStatus(StrEnum):
    """How one notebook of a report run ended."""

    OK = "ok"
    FAILED = "failed"


class CapacityAction(StrEnum):
    """What a capacity plan recommends for one service and resource."""

    UPSIZE = "upsize"
    DOWNSIZE = "downsize"
    KEEP = "keep"
    UNCONFIGURED = "no capacity configured"


class Seasonality(StrEnum):
    """Which seasons a forecast could use (weekly needs two weeks of history)."""

    DAILY_AND_WEEKLY = "daily and weekly"
    DAILY = "daily only"


LONG_COLUMNS = ["timestamp", "service", "metric", "value"]
INCIDENT_COLUMNS = ["id", "service", "start", "end", "severity", "cause", "resolution", "labelled_by"]
EVENT_COLUMNS = ["start", "end", "service", "type", "description"]
#: One row per alert (DESIGN.md, "Alerts").
ALERT_COLUMNS = [
    "id",
    "service",
    "start",
    "end",
    "detected_at",
    "action",
    "source",
    "confidence",
    "rules",
    "top_features",
    "dedup_key",
]


def validate_long(frame: pd.DataFrame, *, metrics: tuple[str, ...] = CANONICAL_METRICS, check: bool = True) -> pd.DataFrame:
    """Check a long-form metrics frame and return a clean copy (see the module notes).

    Parameters
    ----------
    frame
        Columns ``timestamp, service, metric, value``; extra columns are dropped.
    metrics
        The metric names allowed.
    check
        Apply the data-quality checks (:func:`workbench.quality.check_values`). Data read
        back from the store were checked when they came in: its readers pass ``False``, so
        every notebook load and scoring cycle does not scan the whole history again.

    Raises
    ------
    DataError
        Empty frame, missing columns, unparseable timestamps, non-numeric values,
        unknown metrics, conflicting duplicates, or a cumulative counter given as a rate.
        Impossible values (infinite, negative, an error rate above 100 %) are left out as
        gaps with a :class:`~workbench.errors.DataWarning` (:mod:`workbench.quality`).
    """
    missing = [c for c in LONG_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"metrics frame lacks columns {missing}; expected {LONG_COLUMNS}")
    if frame.empty:
        raise DataError("metrics frame is empty")
    out = frame[LONG_COLUMNS].copy()
    out["timestamp"] = to_utc(out["timestamp"])
    out["service"] = out["service"].astype(str)
    out["metric"] = out["metric"].astype(str)
    unknown = sorted(set(out["metric"].unique()) - set(metrics))
    if unknown:
        raise DataError(f"unknown metrics {unknown}; expected some of {list(metrics)}")
    values = pd.to_numeric(out["value"], errors="coerce")
    bad = values.isna() & out["value"].notna()
    if bad.any():
        examples = out.loc[bad, "value"].head(3).tolist()
        raise DataError(f"{int(bad.sum())} non-numeric values, e.g. {examples}")
    out["value"] = values.astype(float)
    out = out.dropna(subset=["value"])
    if out.empty:
        raise DataError("metrics frame holds no values (all NaN)")
    out = out.drop_duplicates()
    if check:
        out = check_values(out)
    if out.empty:
        raise DataError("metrics frame holds no usable values (all impossible: see the warning)")
    key = ["service", "metric", "timestamp"]
    clash = out.duplicated(subset=key, keep=False)
    if clash.any():
        first = out.loc[clash].sort_values(key).head(4)
        raise ConflictingSamplesError(
            f"{int(clash.sum())} rows give different values for the same service, metric and timestamp, e.g.\n"
            f"{first.to_string(index=False)}"
        )
    return out.sort_values(key, kind="stable").reset_index(drop=True)


def _snap_to_step(rows: pd.DataFrame) -> pd.DataFrame:
    """One service's rows with timestamps on a common grid of its sampling step.

    Each metric of a raw scrape has its own sub-second jitter; merged as they are, the
    union of their timestamps is a near-random set whose finest step is milliseconds. Off
    the grid of the shortest per-metric step, each timestamp goes to its nearest grid
    point and values landing on one point are averaged.
    """
    steps = [infer_step(pd.DatetimeIndex(g["timestamp"]).sort_values().unique()) for _, g in rows.groupby("metric") if g["timestamp"].nunique() > 1]
    if not steps:
        return rows
    step = min(steps)
    stamps = pd.DatetimeIndex(rows["timestamp"])
    snapped = stamps.round(step)
    if (snapped == stamps).all():
        return rows
    out = rows.assign(timestamp=snapped)
    return out.groupby(["timestamp", "metric"], as_index=False, sort=False)["value"].mean().assign(service=rows["service"].iloc[0])


def to_wide(frame: pd.DataFrame, service: str) -> pd.DataFrame:
    """One service's metrics in wide form (UTC index, one column per metric).

    Columns come in canonical order; a metric the source lacks is absent, not
    filled. Raises :class:`DataError` when the service has no rows.
    """
    rows = frame[frame["service"].astype(str) == service]
    if rows.empty:
        raise DataError(f"no metrics for service {service!r}")
    rows = _snap_to_step(rows)
    wide = rows.pivot(index="timestamp", columns="metric", values="value")
    wide = wide[[m for m in CANONICAL_METRICS if m in wide.columns]]
    wide.columns.name = None
    wide.index.name = "timestamp"
    return wide.sort_index().astype(float)
