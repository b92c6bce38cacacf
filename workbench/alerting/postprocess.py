"""Alarm post-processing after the per-window verdicts (Merlion's separate stage):

* persistence: the model must flag ``min_windows`` windows in a row, unless one window
  is confident enough alone (``alone_confidence``);
* grouping: flagged windows no more than ``group_gap`` apart form one alert;
* suppression: an alert starting within ``suppress`` of the previous one on the same
  service extends it instead of paging again.
"""

from __future__ import annotations

import pandas as pd

from workbench._util import run_lengths
from workbench.alerting.policy import action_for
from workbench.contracts import ALERT_COLUMNS
from workbench.settings import RoutingSettings

__all__ = ["causal_persistence", "group_alerts", "require_persistence"]


def _confident_so_far(model: pd.Series, confidence: pd.Series, run_id: pd.Series, alone_confidence: float | None) -> pd.Series:
    """Flagged windows at or after a window of their run (``run_id``, from :func:`run_lengths`
    of ``model``) whose confidence reached ``alone_confidence`` (none if it is None): once a
    run has been confident enough to alert alone, the rest of it alerts too, whatever
    ``min_windows`` says."""
    if alone_confidence is None:
        return pd.Series(False, index=model.index)
    alone = model & (confidence.fillna(0.0) >= alone_confidence)
    return model & alone.astype(int).groupby(run_id).cummax().astype(bool)


def require_persistence(verdicts: pd.DataFrame, min_windows: int, alone_confidence: float | None = None) -> pd.DataFrame:
    """Keep model flags only in runs of at least ``min_windows`` consecutive flagged windows.

    Merlion's "minimum alarms" stage: a one-window blip that heals by itself is not
    worth an investigation. A rule needs no persistence (its ``for`` asked for it).
    A kept run is known only when its ``min_windows``-th window closes (``seen_at``).

    A window whose confidence is at or above ``alone_confidence`` is kept however short
    its run, with the rest of its run, each known when it closes: waiting for a second
    window buys little certainty when one normal week in 10,000 shows a window this
    unusual, and costs a window of time to detect. None waits for ``min_windows`` always.
    """
    if min_windows <= 1:
        return verdicts
    out = verdicts.copy()
    model = out["model"].astype(bool)
    run_id, length = run_lengths(model)
    confident = _confident_so_far(model, out["confidence"], run_id, alone_confidence)
    out["model"] = model & ((length >= min_windows) | confident)
    width = out["window_end"] - out.index.to_series()
    run_start = out.index.to_series().groupby(run_id).transform("first")
    seen = pd.concat([out["window_end"], run_start + min_windows * width], axis=1).max(axis=1)
    seen = seen.where(~confident, out["window_end"])
    out["seen_at"] = out["window_end"].where(~out["model"], seen)
    return out


def causal_persistence(verdicts: pd.DataFrame, min_windows: int, alone_confidence: float | None = None) -> pd.DataFrame:
    """Keep a model flag only from the ``min_windows``-th window of its run on, or from the
    first window of its run at or above ``alone_confidence`` on.

    The live loop's form of :func:`require_persistence`: it looks only backwards, so a
    window's verdict is the same whether it is scored alone, in a catch-up or in a replay
    (``require_persistence`` keeps a whole run once it is long enough, which needs its end).
    Each run's first kept window is known when it closes, as the replay's ``seen_at`` says;
    from there on every flagged window of the run is kept, as in the replay.
    """
    if min_windows <= 1:
        return verdicts
    out = verdicts.copy()
    model = out["model"].astype(bool)
    run_id, _ = run_lengths(model)
    position = model.astype(int).groupby(run_id).cumsum()  # 1, 2, ... within a run of flags
    out["model"] = model & ((position >= min_windows) | _confident_so_far(model, out["confidence"], run_id, alone_confidence))
    return out


def group_alerts(service: str, verdicts: pd.DataFrame, settings: RoutingSettings) -> pd.DataFrame:
    """Group flagged windows into alerts and suppress repeats; one row per alert (:data:`ALERT_COLUMNS`).

    ``detected_at`` is when the alert could first have been raised: the first rule
    firing, or the end of the first flagged model window (its verdict is known then).
    """
    verdicts = require_persistence(verdicts, settings.min_windows, settings.alone_confidence)
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
        action, source = action_for(bool(g["rules"]), g["model"])
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
