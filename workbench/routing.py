"""The hybrid policy: verdicts per window become grouped, deduplicated alerts.

Per window the inputs are a model verdict (confidence, anomalous) and the rules
that fired in it. The policy:

* a critical rule alone -> ``page`` (known failure mode: wake someone now);
* the model alone, confidence >= ``investigate_confidence`` -> ``investigate``;
* both in the same alert -> ``page_with_context`` (the page carries the model's why);
* a model-only flag in a planned campaign or maintenance window is muted: the
  surge is expected, and a rule still pages if something breaks during it.

Persistence, grouping and suppression are separate stages after the verdicts
(Merlion's alarm post-processing): the model must flag ``min_windows`` windows in
a row, flagged windows no more than ``group_gap`` apart form one alert, and an
alert starting within ``suppress`` of the previous one on the same service
extends it instead of paging again.
"""

from __future__ import annotations

import pandas as pd

from workbench.config import RoutingSettings

__all__ = ["ALERT_COLUMNS", "group_alerts", "window_verdicts"]

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


def window_verdicts(
    index: pd.DatetimeIndex,
    window: str,
    model: pd.DataFrame | None,
    rule_windows: pd.DataFrame | None,
    planned: pd.Series | None = None,
    investigate_confidence: float = 75.0,
) -> pd.DataFrame:
    """One row per window: ``model`` (bool), ``confidence``, ``rules``, ``first_fire``, ``muted``.

    Parameters
    ----------
    index
        Window starts.
    window
        Window width.
    model
        ``confidence`` per window (NaN = no verdict), or ``None`` for a rules-only system.
    rule_windows
        From :func:`workbench.rules.fire_windows`, or ``None`` for a model-only system.
    planned
        True for windows inside a campaign or maintenance.
    """
    out = pd.DataFrame(index=index)
    if model is not None:
        confidence = model["confidence"].reindex(index)
        out["confidence"] = confidence
        out["model"] = (confidence >= investigate_confidence).fillna(False).astype(bool)
    else:
        out["confidence"] = float("nan")
        out["model"] = False
    if rule_windows is not None and not rule_windows.empty:
        out["rules"] = rule_windows["rules"].reindex(index).fillna("")
        out["first_fire"] = rule_windows["first_fire"].reindex(index)
    else:
        out["rules"] = ""
        out["first_fire"] = pd.NaT
    planned = planned.reindex(index).fillna(False).astype(bool) if planned is not None else pd.Series(False, index=index)
    out["muted"] = out["model"] & planned & (out["rules"] == "")
    out["model"] &= ~out["muted"]
    out["window_end"] = index + pd.Timedelta(window)
    out["seen_at"] = out["window_end"]  # a model verdict is known when its window closes
    return out


def _require_persistence(verdicts: pd.DataFrame, min_windows: int) -> pd.DataFrame:
    """Keep model flags only in runs of at least ``min_windows`` consecutive flagged windows.

    Merlion's "minimum alarms" stage: a one-window blip that heals by itself is not
    worth an investigation. A rule needs no persistence (its ``for`` asked for it).
    A kept run is known only when its ``min_windows``-th window closes (``seen_at``).
    """
    if min_windows <= 1:
        return verdicts
    out = verdicts.copy()
    model = out["model"].astype(bool)
    run_id = (model != model.shift()).cumsum()
    length = model.groupby(run_id).transform("size")
    out["model"] = model & (length >= min_windows)
    width = out["window_end"] - out.index.to_series()
    run_start = out.index.to_series().groupby(run_id).transform("first")
    out["seen_at"] = out["window_end"].where(~out["model"], pd.concat([out["window_end"], run_start + min_windows * width], axis=1).max(axis=1))
    return out


def _action(rule: bool, model: bool) -> tuple[str, str]:
    if rule and model:
        return "page_with_context", "both"
    return ("page", "rule") if rule else ("investigate", "model")


def group_alerts(service: str, verdicts: pd.DataFrame, settings: RoutingSettings) -> pd.DataFrame:
    """Group flagged windows into alerts and suppress repeats; one row per alert (:data:`ALERT_COLUMNS`).

    ``detected_at`` is when the alert could first have been raised: the first rule
    firing, or the end of the first flagged model window (its verdict is known then).
    """
    verdicts = _require_persistence(verdicts, settings.min_windows)
    flagged = verdicts[verdicts["model"] | (verdicts["rules"] != "")]
    gap = pd.Timedelta(settings.group_gap)
    suppress = pd.Timedelta(settings.suppress)
    groups: list[dict] = []
    for start, row in flagged.iterrows():
        # A rule is seen the minute it fires; a model verdict when its window closes
        # (or, with persistence, when the run is long enough).
        seen = row["seen_at"] if row["rules"] == "" else row["first_fire"]
        if row["model"] and row["rules"] != "":
            seen = min(seen, row["seen_at"])
        current = groups[-1] if groups else None
        joins = current is not None and start - current["end"] <= max(gap, suppress)
        if not joins:
            current = {"start": start, "end": row["window_end"], "detected_at": seen, "rules": set(), "model": False, "confidence": float("nan")}
            groups.append(current)
        current["end"] = max(current["end"], row["window_end"])
        current["detected_at"] = min(current["detected_at"], seen)
        current["rules"] |= {r for r in row["rules"].split(",") if r}
        current["model"] |= bool(row["model"])
        if row["model"]:
            current["confidence"] = float(pd.Series([current["confidence"], row["confidence"]]).max())
    rows = []
    for g in groups:
        action, source = _action(bool(g["rules"]), g["model"])
        rows.append(
            {
                "id": f"{service}-{g['start']:%Y%m%dT%H%M}",
                "service": service,
                "start": g["start"],
                "end": g["end"],
                "detected_at": g["detected_at"],
                "action": action,
                "source": source,
                "confidence": round(float(g["confidence"]), 1) if g["model"] else None,
                "rules": ",".join(sorted(g["rules"])),
                "top_features": "",
                "dedup_key": f"{service}/{source}/{g['start']:%Y%m%dT%H%M}",
            }
        )
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)
