"""Episodes: one problem on one service, from its first alerting window until it has been
normal for ``resolve_after`` windows in a row; the unit the live loop delivers.

An episode keeps one ``dedup_key`` for its whole life (PagerDuty's ``dedup_key``,
Alertmanager's label set), built from the service and the start of its first window, so
the same problem always maps to the same key, also when a run is repeated. Its action is
the most severe it has needed so far: an ``investigate`` that a rule later confirms becomes
``page_with_context`` (an ``update`` event), never a second episode.

A window without a verdict (a scrape gap, or the model skipped) is neither alerting nor
normal: it neither opens nor resolves an episode. The exception: for an episode only rules
raised, a window the rules checked and found quiet is normal, model or not.

Pure logic: :func:`advance` takes the open episode (or ``None``) and one window's verdict
and returns the new state and the events to send; the caller persists both together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from workbench.alerting.policy import action_for
from workbench.contracts import AlertSource

__all__ = ["ADVICE_FIELDS", "KEY_PREFIX", "Event", "advance", "dedup_key", "payload"]

KEY_PREFIX = "aiops-workbench"
#: An episode's runbook advice: the top suggested step, the incidents it came from (ids,
#: comma-separated) and the similar past incidents in one line ("" when none was given).
ADVICE_FIELDS = ("suggestion", "citations", "similar_incidents")
#: PagerDuty's limit for a dedup_key.
MAX_KEY = 255


def dedup_key(service: str, opened: pd.Timestamp) -> str:
    """The episode's stable key: ``aiops-workbench/<service>/<first window start, UTC>``, at most 255 characters."""
    stamp = pd.Timestamp(opened).tz_convert("UTC").strftime("%Y%m%dT%H%M%SZ")
    room = MAX_KEY - len(KEY_PREFIX) - len(stamp) - 2
    return f"{KEY_PREFIX}/{service[:room]}/{stamp}"


@dataclass(frozen=True)
class Event:
    """One event to deliver: ``kind`` (trigger, update or resolve) and the episode as it is then."""

    kind: str
    episode: dict
    window: pd.Timestamp
    #: For an update: the ``(action, source)`` the episode had before it.
    previous: tuple[str, str] | None = None


def advance(
    episode: dict | None,
    service: str,
    window: pd.Timestamp,
    width: pd.Timedelta,
    verdict: pd.Series | dict,
    resolve_after: int,
    model_version: str = "",
    explain: Callable[[pd.Timestamp], str] | None = None,
    advise: Callable[[dict, pd.Timestamp], dict] | None = None,
) -> tuple[dict | None, list[Event], dict | None]:
    """Apply one window's verdict to the service's open episode.

    Parameters
    ----------
    episode
        The open episode (a dict of :data:`workbench.alerting.state.EPISODE_FIELDS`), or ``None``.
    window, width
        The window's start and width; the window's end is when its verdict is known.
    verdict
        One row of :func:`~workbench.alerting.policy.window_verdicts` after persistence:
        ``model`` (bool), ``confidence`` (0-100 or NaN: no model verdict), ``rules``, and
        optionally ``checked`` (the rules saw samples in the window: with no model verdict, a
        quiet window still counts as normal for an episode only rules raised), ``tail`` (the
        window's log10 tail probability, lower = more abnormal; it still ranks windows where
        the confidence reads 100) and ``unusual`` (that tail in words, "once in 10^9 normal
        weeks"). The episode keeps those of its most abnormal model window.
    resolve_after
        Normal windows in a row that resolve an open episode.
    explain
        Called with the window start when the model flags the episode's most abnormal
        window so far; returns the top features in words.
    advise
        Called with the episode and the window's end when the episode opens or escalates
        (before its event is made); returns fields to merge: the top suggested step, its
        citations and the similar past incidents (:data:`ADVICE_FIELDS`). Must not raise.

    Returns
    -------
    open_episode, events, changed
        The open episode afterwards (``None`` once resolved), the events to send, and the
        episode row to save (``None`` when nothing changed).
    """
    end = window + width
    rules = {r for r in str(verdict.get("rules", "") or "").split(",") if r}
    model = bool(verdict.get("model", False))
    confidence = verdict.get("confidence")
    known = bool(rules) or (confidence is not None and not pd.isna(confidence))
    if not known and episode is not None and episode["source"] == AlertSource.RULE:
        # A rules-only episode is judged by the rules alone: a window they checked and found
        # quiet counts as normal with no model (before the first training, or while it is
        # down); otherwise such a page would never resolve.
        known = bool(verdict.get("checked", False))
    if model or rules:
        if episode is None:
            action, source = action_for(bool(rules), model)
            episode = {
                "key": dedup_key(service, window),
                "service": service,
                "status": "open",
                "opened": window,
                "last_alert": end,
                "action": action.value,
                "source": source.value,
                "confidence": float(confidence) if model else None,
                **(_rarity(verdict) if model else {"log10_tail": None, "unusual": ""}),
                "rules": ",".join(sorted(rules)),
                "top_features": explain(window) if model and explain else "",
                "model_version": model_version if model else "",
                "normal_windows": 0,
                "resolved": None,
                "updated": end,
                **dict.fromkeys(ADVICE_FIELDS, ""),
            }
            if advise is not None:
                episode.update(advise(episode, end))
            return episode, [Event("trigger", dict(episode), window)], episode
        before = (episode["action"], episode["source"])
        had_rule = episode["source"] in (AlertSource.RULE, AlertSource.BOTH)
        had_model = episode["source"] in (AlertSource.MODEL, AlertSource.BOTH)
        # From everything the episode has seen so far, so its action never drops.
        action, source = action_for(had_rule or bool(rules), had_model or model)
        episode = {**episode, "action": action.value, "source": source.value, "last_alert": end, "normal_windows": 0, "updated": end}
        episode["rules"] = ",".join(sorted(rules | {r for r in episode["rules"].split(",") if r}))
        if model and _more_abnormal(verdict, episode):
            episode["confidence"] = float(confidence)
            episode.update(_rarity(verdict))
            episode["top_features"] = explain(window) if explain else episode["top_features"]
        if model:
            episode["model_version"] = model_version or episode["model_version"]
        if (episode["action"], episode["source"]) == before:
            return episode, [], episode
        if advise is not None:
            # Escalated: advise again on everything seen so far (the span is longer now);
            # advice that could not be given this time keeps what the page said before.
            fresh = advise(episode, end)
            if any(fresh.values()):
                episode.update(fresh)
        return episode, [Event("update", dict(episode), window, before)], episode
    if episode is None or not known:
        return episode, [], None
    episode = {**episode, "normal_windows": episode["normal_windows"] + 1, "updated": end}
    if episode["normal_windows"] < resolve_after:
        return episode, [], episode
    episode = {**episode, "status": "resolved", "resolved": end}
    return None, [Event("resolve", dict(episode), window)], episode


def _number(value) -> float | None:
    """A float, or None for a missing one (None, or NaN as read back from the state)."""
    return None if value is None or pd.isna(value) else float(value)


def _rarity(verdict) -> dict:
    """The episode's rarity fields from a model window's verdict (none known: empty)."""
    return {"log10_tail": _number(verdict.get("tail")), "unusual": str(verdict.get("unusual", "") or "")}


def _more_abnormal(verdict, episode: dict) -> bool:
    """Is this model window more abnormal than the episode's worst so far? By the tail where
    both are known (it ranks beyond a confidence of 100), else by the confidence."""
    worst, tail = _number(episode.get("log10_tail")), _number(verdict.get("tail"))
    if worst is not None and tail is not None:
        return tail < worst
    before = _number(episode["confidence"])
    if before is None:
        return True
    # An episode saved before the tail was kept: a tie at its confidence (often 100) takes the tail.
    now = float(verdict.get("confidence"))
    return now >= before if worst is None and tail is not None else now > before


def payload(event: Event) -> dict:
    """What a sink receives: the event, the episode's key and state, and a one-line summary."""
    ep = dict(event.episode)
    # Rows read back from the state may carry NaN/NaT where nothing was recorded.
    for key in ("confidence", "resolved", "log10_tail"):
        if ep.get(key) is not None and pd.isna(ep[key]):
            ep[key] = None
    parts = [f"{ep['service']}: {ep['action']} ({ep['source']})"]
    if ep["rules"]:
        parts.append(f"rules {ep['rules']}")
    unusual = ep.get("unusual") or ""  # rows saved before it existed have none
    if ep["confidence"] is not None:
        parts.append(f"model confidence {ep['confidence']:.0f}" + (f" ({unusual})" if unusual else ""))
    if ep["top_features"]:
        parts.append(f"top features {ep['top_features']}")
    advice = {k: ep.get(k) or "" for k in ADVICE_FIELDS}  # rows saved before advice existed have none
    if advice["suggestion"]:
        parts.append(f"suggested step {advice['suggestion']} (as in {advice['citations']})")
    return {
        "event": event.kind,
        "dedup_key": ep["key"],
        "service": ep["service"],
        "status": ep["status"],
        "action": ep["action"],
        "source": ep["source"],
        "opened": pd.Timestamp(ep["opened"]).isoformat(),
        "resolved": pd.Timestamp(ep["resolved"]).isoformat() if ep["resolved"] is not None else None,
        "window": pd.Timestamp(event.window).isoformat(),
        "confidence": ep["confidence"],
        "log10_tail": ep.get("log10_tail"),
        "unusual": unusual,
        "rules": ep["rules"],
        "top_features": ep["top_features"],
        "model_version": ep["model_version"],
        **advice,
        "summary": "; ".join(parts),
        "previous_action": event.previous[0] if event.previous else None,
        "previous_source": event.previous[1] if event.previous else None,
    }
