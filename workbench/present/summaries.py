"""What the 01 and 03 reports say first, and their tables, in words a leader reads.

* 01 (one service's metrics): :func:`range_summary` (the answer sentence and the range's
  counts), :func:`metric_summary` (levels, rhythm and gaps per metric), and the detail
  tables :func:`incident_table`, :func:`event_table`, :func:`gap_table`;
* 03 (a trained model): :func:`model_summary` (the answer sentence and what it learned
  from) and :func:`versions_table` (the stored versions, newest first).

The tables have plain column names with units and no index; show them with
:func:`workbench.present.tables.show_table`, which formats times and numbers.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from workbench.contracts import METRIC_UNITS
from workbench.features.windows import find_gaps, infer_frequency, regular_grid
from workbench.present.headline import ANSWER
from workbench.present.words import (
    count,
    duration_words,
    join_words,
    metric_words,
    rarity,
)

__all__ = [
    "duration_words",
    "event_table",
    "gap_table",
    "incident_table",
    "join_words",
    "metric_summary",
    "metric_words",
    "model_summary",
    "range_summary",
    "versions_table",
]

#: Columns of :func:`incident_table`, in order.
INCIDENT_TABLE = ["id", "start", "end", "lasted", "severity", "cause", "resolution", "labelled by"]
#: Columns of :func:`event_table`, in order.
EVENT_TABLE = ["start", "end", "lasted", "applies to", "type", "description"]
#: Columns of :func:`gap_table`, in order.
GAP_TABLE = ["start", "end", "length (min)", "metrics missing"]
#: Columns of :func:`versions_table`, in order.
VERSIONS_TABLE = ["version", "saved at", "trained from", "trained to", "training windows", "alarm at", "sha256 (start)"]


def _complete_words(fraction: float) -> str:
    """"complete", or "99.8 % complete": never rounded up to 100 % while something is missing."""
    if fraction >= 1:
        return "complete"
    percent = 100 * fraction
    text = f"{percent:.1f}"
    if text == "100.0":
        text = f"{math.floor(percent * 100) / 100:.2f}"
    return f"{text} % complete"


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
        One row per metric, no index: ``metric`` (in words), ``unit``, ``typical (median)``
        and ``high (p95)`` (the 95th percentile), in the metric's unit; ``daily swing (%)``
        is the spread of the hour-of-day medians and ``weekly swing (%)`` that of the
        weekday medians, as a percentage of the typical level (NaN under a week of data);
        ``missing (%)`` is the share of grid points without a sample; ``longest gap (min)``
        the longest run of them.
    """
    step = infer_frequency(wide)
    grid = regular_grid(wide, step, max_fill="0min")
    gaps = find_gaps(wide, step)
    rows = []
    for metric in wide.columns:
        values = grid[metric]
        typical = float(values.median())
        hourly = values.groupby(values.index.hour).median()
        weekly = values.groupby(values.index.day_of_week).median() if values.index[-1] - values.index[0] >= pd.Timedelta(days=7) else pd.Series(dtype=float)
        metric_gaps = gaps[gaps["metrics"].str.split(", ").map(lambda names, m=metric: m in names)] if not gaps.empty else gaps
        rows.append({
            "metric": metric_words(metric),
            "unit": METRIC_UNITS.get(metric, ""),
            "typical (median)": round(typical, 2),
            "high (p95)": round(float(values.quantile(0.95)), 2),
            "daily swing (%)": round(_swing(hourly, typical), 1),
            "weekly swing (%)": round(_swing(weekly, typical), 1),
            "missing (%)": round(float(values.isna().mean() * 100), 2),
            "longest gap (min)": float(metric_gaps["minutes"].max()) if not metric_gaps.empty else 0.0,
        })
    return pd.DataFrame(rows)


def range_summary(
    service: str,
    wide: pd.DataFrame,
    incidents: pd.DataFrame,
    events: pd.DataFrame,
) -> dict[str, object]:
    """The few numbers a reader needs first: what was looked at, and what happened in it.

    ``incidents`` and ``events`` should already be limited to the service and range.
    The ``answer`` key holds them in one sentence with the data's completeness and longest
    gap: "checkout had 8 labelled incidents, 26 deploys, 4 campaigns and 1 maintenance
    window over 60 days; its data are 99.8 % complete, the longest gap 100 minutes."
    """
    span = wide.index[-1] - wide.index[0]
    by_type = events["type"].value_counts().to_dict() if not events.empty else {}
    counts = {
        "incidents": int(len(incidents)),
        "deploys": int(by_type.get("deploy", 0)),
        "campaigns": int(by_type.get("campaign", 0)),
        "maintenance": int(by_type.get("maintenance", 0)),
    }
    step = infer_frequency(wide)
    complete = float(regular_grid(wide, step, max_fill="0min").notna().to_numpy().mean())
    gaps = find_gaps(wide, step)
    longest = float(gaps["minutes"].max()) if not gaps.empty else 0.0
    return {
        ANSWER: _range_answer(service, span, counts, complete, longest),
        "service": service,
        "from": wide.index[0].strftime("%Y-%m-%d %H:%M"),
        "to": wide.index[-1].strftime("%Y-%m-%d %H:%M"),
        "days": round(span / pd.Timedelta(days=1), 1),
        "samples": int(wide.notna().any(axis=1).sum()),
        **counts,
    }


def _range_answer(service: str, span: pd.Timedelta, counts: dict[str, int], complete: float, longest: float) -> str:
    nouns = {"incidents": "labelled incident", "deploys": "deploy", "campaigns": "campaign", "maintenance": "maintenance window"}
    if any(counts.values()):
        happened = join_words([count(counts[key], noun) for key, noun in nouns.items()])
    else:
        happened = "no labelled incidents, deploys, campaigns or maintenance windows"
    data = f"its data are {_complete_words(complete)}"
    data += f", the longest gap {duration_words(longest)}" if longest > 0 else ", with no gaps"
    return f"{service} had {happened} over {duration_words(span / pd.Timedelta(minutes=1))}; {data}."


def incident_table(incidents: pd.DataFrame) -> pd.DataFrame:
    """Labelled incidents as a reader sees them: id, start, end, how long it lasted, severity,
    cause, resolution and who labelled it; earliest first."""
    if incidents.empty:
        return pd.DataFrame(columns=INCIDENT_TABLE)
    rows = incidents.sort_values("start")
    out = rows[["id", "start", "end"]].assign(lasted=rows["end"] - rows["start"])
    out = out.join(rows[["severity", "cause", "resolution", "labelled_by"]].rename(columns={"labelled_by": "labelled by"}))
    return out.reset_index(drop=True)[INCIDENT_TABLE]


def event_table(events: pd.DataFrame, types: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Planned events (of ``types``, default all) as a reader sees them: start, end, how long,
    which service they apply to ("all services" for ``*``), type and description."""
    rows = events if types is None or events.empty else events[events["type"].isin(types)]
    if rows.empty:
        return pd.DataFrame(columns=EVENT_TABLE)
    rows = rows.sort_values("start")
    out = pd.DataFrame({
        "start": rows["start"],
        "end": rows["end"],
        "lasted": rows["end"] - rows["start"],
        "applies to": rows["service"].replace("*", "all services"),
        "type": rows["type"],
        "description": rows["description"],
    })
    return out.reset_index(drop=True)


def gap_table(wide: pd.DataFrame) -> pd.DataFrame:
    """Every run of missing samples: start, end (the first sample back), length in minutes,
    and the metrics missing throughout it ("all", or their names in words)."""
    gaps = find_gaps(wide)
    if gaps.empty:
        return pd.DataFrame(columns=GAP_TABLE)
    out = pd.DataFrame({
        "start": gaps["start"],
        "end": gaps["end"],
        "length (min)": gaps["minutes"].round().astype(int),
        "metrics missing": gaps["metrics"].map(lambda names: _missing_words(names, list(wide.columns))),
    })
    return out.reset_index(drop=True)


def _missing_words(names: str, metrics: list[str]) -> str:
    """:func:`find_gaps`'s ``metrics`` cell in words: "all", "latency p95, CPU", or that it varied."""
    if names == "some":  # no one metric was missing for the whole run
        return "different metrics at different times"
    listed = names.split(", ")
    return "all" if set(listed) >= set(metrics) else ", ".join(metric_words(m) for m in listed)


def model_summary(model, saved: str | Path | None = None) -> dict[str, object]:
    """What the 03 report says first about a trained :class:`~workbench.lifecycle.training.ServiceModel`.

    Parameters
    ----------
    model
        The trained model.
    saved
        The version it was saved as (its folder or name), or None when it was not saved.

    Returns
    -------
    dict
        ``answer``: "A new checkout model learned what normal looks like from 2,748 windows of
        15 minutes (the 30 days to 2026-10-31; 118 windows of incidents and planned events left
        out); it raises an alarm for any window rarer than once in 4 normal weeks; saved as
        version 20261128T174451Z-a7ba." Then the figures: service, trained from, trained to,
        window, training windows, windows left out, alarm at, saved as.
    """
    name = Path(saved).name if saved else None
    left_out = int(model.metadata.get("removed_windows", 0))
    window = duration_words(model.features.window_ / pd.Timedelta(minutes=1))
    days = duration_words((model.trained_to - model.trained_from) / pd.Timedelta(minutes=1))
    alarm = rarity(model.detector.alarm_confidence)
    skipped = f"{count(left_out, 'window')} of incidents and planned events left out" if left_out else "nothing left out"
    answer = (
        f"A new {model.service} model learned what normal looks like from {count(model.training_windows, 'window')} "
        f"of {window} (the {days} to {_when(model.trained_to)}; {skipped}); "
        f"it raises an alarm for any window rarer than {alarm}; "
        + (f"saved as version {name}." if name else "not saved.")
    )
    return {
        ANSWER: answer,
        "service": model.service,
        "trained from": _when(model.trained_from),
        "trained to": _when(model.trained_to),
        "window": window,
        "training windows": int(model.training_windows),
        "windows left out": left_out,
        "alarm at": f"rarer than {alarm}",
        "saved as": name or "not saved",
    }


def _when(stamp) -> str:
    """A UTC time as the tables show it: the day alone at midnight, else to the minute."""
    stamp = pd.Timestamp(stamp)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo is not None else stamp
    return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else f"{stamp:%Y-%m-%d %H:%M}"


def versions_table(versions: list[dict], last: int = 5) -> pd.DataFrame:
    """The ``last`` stored model versions (metadata as :func:`~workbench.lifecycle.versions.list_versions`
    returns them, oldest first), newest first: version, saved at, trained from, trained to,
    training windows, alarm at (how rare a window must be) and the start of the file's sha256.

    Versions saved before model cards existed fall back to their headline facts; what neither
    records is None (a dash in the table).
    """
    rows = []
    for meta in list(reversed(versions))[:last]:
        card = meta.get("card") or {}
        confidence = (card.get("calibration") or {}).get("alarm_confidence", meta.get("alarm confidence"))
        rows.append({
            "version": meta.get("version"),
            "saved at": _time(meta.get("saved_at")),
            "trained from": _time(card.get("trained_from", meta.get("trained from"))),
            "trained to": _time(card.get("trained_to", meta.get("trained to"))),
            "training windows": card.get("training_windows", meta.get("training windows")),
            "alarm at": f"rarer than {rarity(float(confidence))}" if confidence is not None else None,
            "sha256 (start)": (meta.get("sha256") or "")[:12] or None,
        })
    return pd.DataFrame(rows, columns=VERSIONS_TABLE)


def _time(text) -> pd.Timestamp | None:
    """An ISO time from metadata as a UTC timestamp (a time without an offset is UTC)."""
    if not text:
        return None
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
