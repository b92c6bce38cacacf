"""Context for each window (hour, weekday, business hours, deploys, campaigns, maintenance)
and the training filters that keep incidents and planned events out of "normal".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["context_flags", "remove_incidents", "remove_planned"]


def remove_incidents(windows: pd.DataFrame, incidents: pd.DataFrame, margin: str = "1h", *, window: str | pd.Timedelta) -> pd.DataFrame:
    """``windows`` (each ``window`` wide) without those overlapping an incident widened by ``margin`` on each side.

    Labelled incidents must not teach the model what normal looks like.
    """
    keep = np.ones(len(windows), dtype=bool)
    width = pd.Timedelta(margin)
    starts = windows.index
    ends = windows.index + pd.Timedelta(window)
    for row in incidents.itertuples():
        keep &= ~((starts < row.end + width) & (ends > row.start - width))
    return windows[keep]


def remove_planned(windows: pd.DataFrame, events: pd.DataFrame, *, window: str | pd.Timedelta) -> pd.DataFrame:
    """``windows`` without campaign and maintenance windows: planned, so neither normal nor incidents."""
    flags = context_flags(windows.index, events, window)
    return windows[(flags["campaign"] == 0) & (flags["maintenance"] == 0)]


def context_flags(index: pd.DatetimeIndex, events: pd.DataFrame, window: str | pd.Timedelta) -> pd.DataFrame:
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
