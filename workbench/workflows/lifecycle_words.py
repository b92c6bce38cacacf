"""07's retraining decisions in a reader's words: the policy, each verdict and why, the answer.

The promotion rule (:func:`workbench.evaluate.paired.decide`) writes one technical sentence
per condition ("95 % lower bound of the improvement +0.0 % (must be above 0)"). A reader
wants the conditions that decided, in words: :func:`why_words` finds them from the
comparison's figures and the same settings, in the rule's order (evidence, saving,
certainty, incidents, false alarms).
"""

from __future__ import annotations

import math

import pandas as pd

from workbench.evaluate.promotion import rule_checks
from workbench.present.words import count, join_words
from workbench.settings.lifecycle import LifecycleSettings

__all__ = ["POLICY_WORDS", "answer_sentence", "drift_words", "policy_words", "trigger_words", "verdict_words", "why_words"]

#: How each policy retrains, completing "retraining ...".
POLICY_WORDS = {"weekly_or_drift": "weekly or on drift", "weekly": "weekly", "drift": "on drift", "frozen": "never (frozen)"}
_VERDICTS = {
    "first": "first model",
    "promote": "promoted the challenger",
    "keep": "kept the champion",
    "not_enough_evidence": "kept the champion (not enough evidence)",
    "not_due": "not due",
}
_DRIFT = {"ok": "none", "warn": "warning", "act": "acting", "unknown": "unknown"}


def policy_words(policy: str) -> str:
    """"weekly or on drift" for ``weekly_or_drift``."""
    return POLICY_WORDS.get(policy, policy.replace("_", " "))


def verdict_words(verdict: str) -> str:
    """"kept the champion" for ``keep``."""
    return _VERDICTS.get(verdict, verdict.replace("_", " "))


def drift_words(status: str | None) -> str:
    """A drift check's status as a reader says it: none, warning, acting, unknown."""
    return _DRIFT.get(status or "unknown", str(status))


def trigger_words(trigger: str) -> str:
    """What made a retrain due, in a word or two: "weekly schedule", "drift", "first model"."""
    if trigger.startswith("scheduled"):
        return "weekly schedule"
    if trigger.startswith("drift acted"):
        return "drift"
    if trigger in ("no champion yet", "no retrain recorded yet"):
        return "first model"
    return trigger


def _pct(fraction: float) -> str:
    return f"{abs(fraction) * 100:.0f} %"


def why_words(verdict: str, figures: dict, settings: LifecycleSettings, reasons: list[str] | tuple[str, ...] = ()) -> str:
    """Why a retrain ended as it did, in plain words, from its comparison's ``figures``.

    A kept champion names every condition the challenger failed; a promotion says what
    the challenger won on; a first model says so. Without figures, the rule's first
    reason (or nothing) is returned.
    """
    if verdict == "first":
        return "the service had no model yet"
    if verdict == "not_due" or not figures:
        return reasons[0] if reasons else ""
    incidents = int(figures.get("incidents") or 0) + len(figures.get("earlier_incidents") or [])
    if verdict == "not_enough_evidence":
        return f"{'only ' if incidents else ''}{count(incidents, 'labelled incident')} to judge it by ({settings.min_incidents} needed)"
    gain = float(figures.get("improvement") or 0.0)
    lower = figures.get("lower_bound")
    lower = float("nan") if lower is None else float(lower)
    champion_cost = float((figures.get("champion") or {}).get("cost") or 0.0)
    regressions = [str(r) for r in figures.get("regressions") or []]
    fp_rise = float(figures.get("fp_rise") or 0.0)
    if verdict == "promote":
        return (f"the challenger cost {_pct(gain)} less (at least {_pct(lower)} with 95 % confidence), "
                "caught every incident the champion caught and raised no more false alarms")  # fmt: skip
    # The rule's own checks (evaluate.paired), so these words can never disagree with the verdict.
    ok = rule_checks(settings, incidents=incidents, gain=gain, lower=lower, regressions=regressions, fp_rise=fp_rise)
    failed = []
    if champion_cost == 0:
        failed.append("the champion cost nothing: nothing to improve")
    elif not ok["saving"]:
        if gain < -0.005:
            failed.append(f"the challenger cost {_pct(gain)} more")
        elif gain < 0.005:
            failed.append("the challenger was no cheaper")
        else:
            failed.append(f"the challenger was only {_pct(gain)} cheaper ({settings.min_improvement * 100:g} % needed)")
    if champion_cost != 0 and ok["saving"] and not ok["certainty"]:
        doubt = "too few days to tell" if not math.isfinite(lower) else "it could be none" if lower > -0.005 else "it could even cost more"
        failed.append(f"its {_pct(gain)} saving is not sure: {doubt}")
    if not ok["regressions"]:
        failed.append(f"it missed {', '.join(sorted(regressions))}, which the champion caught")
    if not ok["false_alarms"]:
        failed.append(f"its share of false alarms rose {fp_rise * 100:.0f} points ({settings.max_fp_rise * 100:g} allowed)")
    return "; ".join(failed) if failed else (reasons[0] if reasons else "")


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _after_changes(promoted: list, changes: pd.DataFrame) -> str:
    """", after their migrations" when every promotion followed a known change of its service."""
    if changes is None or changes.empty or not promoted:
        return ""
    followed = []
    for r in promoted:
        mine = changes[(changes["service"] == r.service) & (pd.to_datetime(changes["at"], utc=True) < pd.Timestamp(r.as_of))]
        if mine.empty:
            return ""
        followed.append(str(mine["description"].iloc[-1]))
    first_words = {d.split(" ")[0].lower() for d in followed}
    noun = first_words.pop() if len(first_words) == 1 and first_words != {""} else "infrastructure change"
    services = {r.service for r in promoted}
    return f", after their {noun}s" if len(services) > 1 else f", after its {noun}"


def answer_sentence(policy: str, days: float, results: list, changes: pd.DataFrame | None = None, acting: list[str] | None = None) -> str:
    """07's answer in one plain sentence: what the policy promoted and kept, and drift now.

    E.g. "Over 4 weeks, retraining weekly or on drift promoted 2 new models (search and
    catalog, after their migrations) and kept the champion 25 times (once for lack of
    labelled incidents); no service shows acting drift now."

    Parameters
    ----------
    policy
        The replayed policy (``weekly_or_drift``, ``weekly``, ``drift``, ``frozen``).
    days
        How many days the replay covered.
    results
        Every daily retrain result (:class:`~workbench.workflows.retrain.RetrainResult`).
    changes
        Known infrastructure changes (``service, at, description``), if any.
    acting
        The services whose newest drift check acts.
    """
    span = count(round(days / 7), "week") if days >= 7 and days % 7 == 0 else count(round(days), "day")
    decided = [r for r in results if r.verdict not in ("not_due", "first")]
    acting = sorted(acting or [])
    drift = "no service shows acting drift now" if not acting else f"drift acts now on {join_words(acting)}"
    if policy == "frozen":
        return f"Over {span}, with retraining frozen, every service kept its first model; {drift}."
    how = f"retraining {policy_words(policy)}"
    if not decided:
        return f"Over {span}, {how} was never due: every service kept its first model; {drift}."
    promoted = [r for r in decided if r.verdict == "promote"]
    kept = len(decided) - len(promoted)
    short = sum(r.verdict == "not_enough_evidence" for r in decided)
    if promoted:
        names = join_words(list(dict.fromkeys(r.service for r in promoted)))
        promotion = f"promoted {count(len(promoted), 'new model')} ({names}{_after_changes(promoted, changes)})"
    else:
        promotion = "promoted no new model"
    keeping = f"kept the champion {_times(kept)}" if kept else "never kept the champion"
    if short:
        keeping += f" ({_times(short) if short < kept else 'each time'} for lack of labelled incidents)"
    return f"Over {span}, {how} {promotion} and {keeping}; {drift}."
