"""Headline figures about one service's metrics: levels, seasonality, gaps, labels in range."""

from __future__ import annotations

import pandas as pd

from workbench.contracts import METRIC_UNITS
from workbench.features.windows import find_gaps, infer_frequency, regular_grid

__all__ = ["metric_summary", "range_summary"]


def _swing(profile: pd.Series, level: float) -> float:
    """Peak-to-trough of a seasonal profile as % of the typical level."""
    if level == 0 or profile.empty:
        return float("nan")
    return float((profile.max() - profile.min()) / abs(level) * 100)


def metric_summary(wide: pd.DataFrame) -> pd.DataFrame:
    """Per metric: unit, typical level, high level, daily and weekly swing, missing share, longest gap.

    Parameters
    ----------
    wide
        One service's raw samples, wide form.

    Returns
    -------
    pandas.DataFrame
        Indexed by metric. ``typical`` is the median and ``p95`` the 95th
        percentile, in the metric's unit; ``daily swing %`` is the spread of the
        hour-of-day medians and ``weekly swing %`` that of the weekday medians,
        as a percentage of the typical level; ``missing %`` is the share of grid
        points without a sample; ``longest gap (min)`` the longest run of them.
    """
    step = infer_frequency(wide)
    grid = regular_grid(wide, step, max_fill="0min")
    gaps = find_gaps(wide, step)
    rows = {}
    for metric in wide.columns:
        values = grid[metric]
        typical = float(values.median())
        hourly = values.groupby(values.index.hour).median()
        weekly = values.groupby(values.index.day_of_week).median() if values.index[-1] - values.index[0] >= pd.Timedelta(days=7) else pd.Series(dtype=float)
        metric_gaps = gaps[gaps["metrics"].str.contains(metric)] if not gaps.empty else gaps
        rows[metric] = {
            "unit": METRIC_UNITS.get(metric, ""),
            "typical": round(typical, 2),
            "p95": round(float(values.quantile(0.95)), 2),
            "daily swing %": round(_swing(hourly, typical), 1),
            "weekly swing %": round(_swing(weekly, typical), 1),
            "missing %": round(float(values.isna().mean() * 100), 2),
            "longest gap (min)": float(metric_gaps["minutes"].max()) if not metric_gaps.empty else 0.0,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "metric"
    return out


def range_summary(
    service: str,
    wide: pd.DataFrame,
    incidents: pd.DataFrame,
    events: pd.DataFrame,
) -> dict[str, object]:
    """The few numbers a reader needs first: what was looked at, and what happened in it.

    ``incidents`` and ``events`` should already be limited to the service and range.
    """
    span = wide.index[-1] - wide.index[0]
    by_type = events["type"].value_counts().to_dict() if not events.empty else {}
    return {
        "service": service,
        "from": wide.index[0].strftime("%Y-%m-%d %H:%M UTC"),
        "to": wide.index[-1].strftime("%Y-%m-%d %H:%M UTC"),
        "days": round(span / pd.Timedelta(days=1), 1),
        "samples": int(wide.notna().any(axis=1).sum()),
        "incidents": int(len(incidents)),
        "deploys": int(by_type.get("deploy", 0)),
        "campaigns": int(by_type.get("campaign", 0)),
        "maintenance": int(by_type.get("maintenance", 0)),
    }
