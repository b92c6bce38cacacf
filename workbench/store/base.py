"""What every metric store shares: the row key, the aggregate origin, the write result,
and the pandas form of a windowed aggregate (the reference the SQL version must equal).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["KEY", "ORIGIN", "WriteResult", "aggregate_frame", "empty_frame"]

KEY = ["service", "metric", "timestamp"]
#: Where aggregate windows are counted from (a Monday, midnight UTC), as ``date_bin``'s origin.
ORIGIN = pd.Timestamp("2000-01-03", tz="UTC")


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
            "service": pd.Series([], dtype=object),
            "metric": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=float),
        }
    )


def aggregate_frame(frame: pd.DataFrame, window: str, origin: pd.Timestamp) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=["window", "service", "metric", "mean", "max", "count"])
    width = pd.Timedelta(window)
    bins = origin + ((frame["timestamp"] - origin) // width) * width
    out = (
        frame.assign(window=bins)
        .groupby(["window", "service", "metric"], sort=True)["value"]
        .agg(["mean", "max", "count"])
        .reset_index()
    )
    out["count"] = out["count"].astype("int64")
    return out


@dataclass(frozen=True)
class WriteResult:
    """What a store write did: rows new to the store and rows whose value changed."""

    added: int
    changed: int
