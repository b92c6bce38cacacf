"""The promotion rule on figures already computed: promote the challenger, keep the champion,
or say there is not enough evidence, with one sentence per condition.

The comparison itself (paired daily costs, the bootstrap over days) is
:mod:`workbench.evaluate.paired`; :func:`rule_checks` is the one place the rule's arithmetic
lives, so the words of a report (``workflows.lifecycle_words``) can never disagree with it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from workbench.settings.lifecycle import LifecycleSettings

if TYPE_CHECKING:
    from workbench.evaluate.paired import BootstrapResult

__all__ = ["Verdict", "decide", "rule_checks"]

#: Slack in the threshold comparisons, so that exactly 5 % lower passes despite binary fractions.
_EPS = 1e-9


class Verdict(StrEnum):
    """What to do with the challenger."""

    PROMOTE = "promote"
    KEEP = "keep"
    #: Too few labelled incidents in the span to judge either model: the champion stays.
    NOT_ENOUGH_EVIDENCE = "not_enough_evidence"


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def rule_checks(settings: LifecycleSettings, *, incidents: int, gain: float, lower: float, regressions, fp_rise: float) -> dict[str, bool]:
    """Each condition of the promotion rule, passed or not: the one place its arithmetic lives."""
    return {
        "evidence": incidents >= settings.min_incidents,
        "saving": gain >= settings.min_improvement - _EPS,  # a saving of 4.9999999999 % is 5 %
        "certainty": lower > 0,
        "regressions": not regressions,
        "false_alarms": fp_rise <= settings.max_fp_rise + _EPS,
    }


def decide(
    result: BootstrapResult, *, settings: LifecycleSettings, incidents: int, days: int, regressions=(), fp_rise: float = 0.0, evidence: str | None = None
) -> tuple[Verdict, tuple[str, ...]]:
    """The promotion rule on figures already computed, and one sentence per condition (``evidence`` words the incident count).

    ``not_enough_evidence`` when fewer than ``settings.min_incidents`` labelled incidents
    start in the span (checked first: the champion stays); ``promote`` when the improvement
    is at least ``settings.min_improvement``, its lower bound is above 0, no incident
    regressed and the false-positive share (a fraction) rose by at most
    ``settings.max_fp_rise``; otherwise ``keep``. The reasons list the failed conditions
    first.
    """
    gain, lower = result.improvement, result.lower_bound
    needed = f"(≥ {settings.min_improvement * 100:g} % lower needed)"
    if result.champion_cost == 0:
        spent = f"{result.challenger_cost:g}" if result.challenger_cost else "nothing"
        gain_text = f"the champion cost nothing over the span and the challenger {spent}: nothing to improve {needed}"
    elif gain >= 0:
        gain_text = f"cost {_pct(gain)} lower {needed}"
    else:
        gain_text = f"cost {_pct(-gain)} higher {needed}"
    bound = f"{lower * 100:+.1f} %" if np.isfinite(lower) else "unbounded (fewer than 2 days, or too few days on which the champion cost anything)"
    regressions = ", ".join(sorted(map(str, regressions)))
    where = evidence or f"in the compared {_plural(days, 'day')}"
    evidence = f"{_plural(incidents, 'labelled incident')} {where} ({settings.min_incidents} needed)"
    ok = rule_checks(settings, incidents=incidents, gain=gain, lower=lower, regressions=regressions, fp_rise=fp_rise)
    # (passed, sentence), evidence first: it is checked first.
    conditions = [
        (ok["evidence"], evidence if ok["evidence"] else f"not enough evidence: {evidence}"),
        (ok["saving"], gain_text),
        (ok["certainty"], f"{settings.confidence * 100:g} % lower bound of the improvement {bound} (must be above 0)"),
        (ok["regressions"], f"caught by the champion, missed by the challenger: {regressions}" if regressions else "no incident caught by the champion and missed by the challenger"),
        (ok["false_alarms"], f"false-positive share {fp_rise * 100:+.1f} points against the champion's (at most {settings.max_fp_rise * 100:+g} allowed)"),
    ]
    reasons = tuple(text for ok, text in conditions if not ok) + tuple(text for ok, text in conditions if ok)
    if not conditions[0][0]:
        return Verdict.NOT_ENOUGH_EVIDENCE, reasons
    return (Verdict.PROMOTE if all(ok for ok, _ in conditions) else Verdict.KEEP), reasons
