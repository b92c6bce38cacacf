"""The hybrid policy: verdicts per window become grouped, deduplicated alerts.

The inputs are verdict frames (:mod:`workbench.detect.base`), one per source, from
models and rule sets alike; only a source's ``kind`` matters here. The policy:

* a rule alone -> ``page`` (known failure mode: wake someone now);
* a model alone, flagged (confidence at or above its threshold) -> ``investigate``;
* both in the same alert -> ``page_with_context`` (the page carries the model's why);
* a model-only flag in a planned campaign or maintenance window is muted: the
  surge is expected, and a rule still pages if something breaks during it.

Persistence, grouping and suppression are separate stages after the verdicts
(Merlion's alarm post-processing), in :mod:`workbench.alerting.postprocess`.
"""

from __future__ import annotations

import pandas as pd

from workbench.contracts import AlertAction, AlertSource
from workbench.detect.base import VerdictKind, check_verdicts
from workbench.errors import ParameterError

__all__ = ["action_for", "window_verdicts"]


def _combine(index: pd.DatetimeIndex, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Verdicts of several sources of one kind, per window: any flag, max confidence,
    the flagged sources' details joined, the earliest ``first_seen`` of a flag."""
    if not frames:
        return pd.DataFrame({"flag": False, "confidence": float("nan"), "detail": "", "first_seen": pd.NaT}, index=index)
    flags = pd.concat([f["flag"].reindex(index).fillna(False).astype(bool) for f in frames], axis=1)
    confidence = pd.concat([f["confidence"].reindex(index) for f in frames], axis=1)
    detail = pd.concat([f["detail"].where(f["flag"], "").reindex(index).fillna("") for f in frames], axis=1)
    seen = pd.concat([f["first_seen"].where(f["flag"]).reindex(index) for f in frames], axis=1)
    return pd.DataFrame(
        {
            "flag": flags.any(axis=1),
            "confidence": confidence.max(axis=1),
            "detail": detail.apply(lambda row: ",".join(d for d in row if d), axis=1) if len(frames) > 1 else detail.iloc[:, 0],
            "first_seen": seen.min(axis=1) if len(frames) > 1 else seen.iloc[:, 0],
        },
        index=index,
    )


def window_verdicts(
    index: pd.DatetimeIndex,
    window: str,
    sources: list[pd.DataFrame],
    planned: pd.Series | None = None,
) -> pd.DataFrame:
    """Combine verdict sources into one row per window, for :func:`~workbench.alerting.postprocess.group_alerts`.

    Parameters
    ----------
    index
        Window starts.
    window
        Window width.
    sources
        Verdict frames (:mod:`workbench.detect.base`), any number of each kind: for
        example a model's (:func:`~workbench.detect.base.model_verdicts`) and a rule
        set's (:meth:`~workbench.detect.rules.RuleSet.verdicts`). No model source is
        a rules-only system; no rule source a model-only one.
    planned
        True for windows inside a campaign or maintenance.

    Returns
    -------
    DataFrame
        Indexed by ``index``: ``model`` (bool, a model flagged the window and it is
        not muted), ``confidence`` (0-100, the highest of the models'; NaN without
        one), ``rules`` (comma-joined names of the rules that fired, ``""`` if none),
        ``first_fire`` (the first rule firing), ``muted`` (a model-only flag in a
        planned window), ``window_end`` and ``seen_at`` (when the model's verdict is known).
    """
    by_kind: dict[VerdictKind, list[pd.DataFrame]] = {kind: [] for kind in VerdictKind}
    for frame in sources:
        kind = check_verdicts(frame)
        if kind is not None:
            by_kind[kind].append(frame)
    model = _combine(index, by_kind[VerdictKind.MODEL])
    rules = _combine(index, by_kind[VerdictKind.RULE])
    out = pd.DataFrame(index=index)
    out["confidence"] = model["confidence"]
    out["model"] = model["flag"]
    out["rules"] = rules["detail"]
    out["first_fire"] = rules["first_seen"]
    planned = planned.reindex(index).fillna(False).astype(bool) if planned is not None else pd.Series(False, index=index)
    out["muted"] = out["model"] & planned & (out["rules"] == "")
    out["model"] &= ~out["muted"]
    out["window_end"] = index + pd.Timedelta(window)
    # A model verdict is known when its window closes, unless its source says when.
    end = out["window_end"]
    first_seen = pd.to_datetime(model["first_seen"], utc=end.dt.tz is not None)
    out["seen_at"] = first_seen.where(first_seen.notna(), end)
    return out


def action_for(rule: bool, model: bool) -> tuple[AlertAction, AlertSource]:
    """The policy for one alert: ``(action, source)`` from whether a rule and the model took part."""
    if rule and model:
        return AlertAction.PAGE_WITH_CONTEXT, AlertSource.BOTH
    if rule:
        return AlertAction.PAGE, AlertSource.RULE
    if model:
        return AlertAction.INVESTIGATE, AlertSource.MODEL
    raise ParameterError("an alert needs a rule or the model behind it")
