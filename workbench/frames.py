"""The data contracts of DESIGN.md: check a metrics frame, and move between long and wide form.

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

import pandas as pd

from workbench.config import CANONICAL_METRICS

__all__ = [
    "DataError",
    "EVENT_COLUMNS",
    "INCIDENT_COLUMNS",
    "LONG_COLUMNS",
    "as_utc",
    "to_wide",
    "validate_long",
]

LONG_COLUMNS = ["timestamp", "service", "metric", "value"]
INCIDENT_COLUMNS = ["id", "service", "start", "end", "severity", "cause", "resolution", "labelled_by"]
EVENT_COLUMNS = ["start", "end", "service", "type", "description"]


class DataError(ValueError):
    """Input data that breaks a contract; the message says which rows or columns."""


def as_utc(values: pd.Series | pd.Index, what: str = "timestamp") -> pd.Series | pd.Index:
    """Parse timestamps to tz-aware UTC; tz-naive values are taken as UTC.

    Raises
    ------
    DataError
        A value cannot be parsed as a timestamp.
    """
    try:
        # utc=True reads naive values as UTC and converts aware ones: the contract.
        return pd.to_datetime(values, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what}: cannot parse as timestamps ({exc})") from exc


def validate_long(frame: pd.DataFrame, *, metrics: tuple[str, ...] = CANONICAL_METRICS) -> pd.DataFrame:
    """Check a long-form metrics frame and return a clean copy (see the module notes).

    Parameters
    ----------
    frame
        Columns ``timestamp, service, metric, value``; extra columns are dropped.
    metrics
        The metric names allowed.

    Raises
    ------
    DataError
        Empty frame, missing columns, unparseable timestamps, non-numeric values,
        unknown metrics, or conflicting duplicates.
    """
    missing = [c for c in LONG_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"metrics frame lacks columns {missing}; expected {LONG_COLUMNS}")
    if frame.empty:
        raise DataError("metrics frame is empty")
    out = frame[LONG_COLUMNS].copy()
    out["timestamp"] = as_utc(out["timestamp"])
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
    key = ["service", "metric", "timestamp"]
    clash = out.duplicated(subset=key, keep=False)
    if clash.any():
        first = out.loc[clash].sort_values(key).head(4)
        raise DataError(
            f"{int(clash.sum())} rows give different values for the same service, metric and timestamp, e.g.\n"
            f"{first.to_string(index=False)}"
        )
    return out.sort_values(key, kind="stable").reset_index(drop=True)


def to_wide(frame: pd.DataFrame, service: str) -> pd.DataFrame:
    """One service's metrics in wide form (UTC index, one column per metric).

    Columns come in canonical order; a metric the source lacks is absent, not
    filled. Raises :class:`DataError` when the service has no rows.
    """
    rows = frame[frame["service"].astype(str) == service]
    if rows.empty:
        raise DataError(f"no metrics for service {service!r}")
    wide = rows.pivot(index="timestamp", columns="metric", values="value")
    wide = wide[[m for m in CANONICAL_METRICS if m in wide.columns]]
    wide.columns.name = None
    wide.index.name = "timestamp"
    return wide.sort_index().astype(float)
