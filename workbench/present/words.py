"""Figures in words for readers who never see a feature name or a calibrated score.

* :func:`rarity`: a model confidence (0-100, calibrated against a normal week) as how
  rarely a normal week shows a window this unusual, "once in 370 normal weeks". It keeps
  separating alerts where the confidence itself reads 100.0 for most of them.
* :func:`feature_words` (from :mod:`workbench.detect.explain`, which words alert
  annotations the same way): a SHAP top feature as "latency p95 far above its usual
  level for a weekday 14:15".
* :func:`count`, :func:`share`: "1 incident", "3 incidents"; "23 %"; :func:`duration_words`,
  :func:`join_words`, :func:`metric_words`: "2.5 hours", "a, b and c", "latency p95".
"""

from __future__ import annotations

import math

from workbench.detect.calibration import FLOOR
from workbench.detect.explain import FEATURE_NAMES, feature_words

__all__ = ["count", "duration_words", "feature_words", "join_words", "metric_words", "rarity", "rarity_of_tail", "share"]

#: Beyond this many periods the words give the power of ten only: the tails are extrapolated
#: so far that more digits would be false precision, but the order still ranks alerts.
EXACT_UP_TO = 1e6


def _every(every: float, period: str) -> str:
    """"once in 370 normal weeks", "once in 12,000 ...", "once in 10^9 ..." (``every`` periods)."""
    if every < 1.5:
        return f"most normal {period}s"
    if every < 1000:
        return f"once in {every:.0f} normal {period}s"
    if every < EXACT_UP_TO:
        return f"once in {float(f'{every:.2g}'):,.0f} normal {period}s"
    return f"once in 10^{math.floor(round(math.log10(every), 6))} normal {period}s"


def rarity(confidence: float, period: str = "week") -> str:
    """How rarely a normal ``period`` shows a window this unusual, from a calibrated confidence.

    A confidence ``c`` promises that a normal period shows a window at least this unusual
    with probability ``1 - c/100``, so this is once in ``1 / (1 - c/100)`` periods:
    75 is "once in 4 normal weeks", 99.99 "once in 10,000 normal weeks". NaN (a rule
    alone, no model verdict) is a dash. A confidence that reads exactly 100 has lost its
    tail to rounding (below 1e-16); :func:`rarity_of_tail` keeps it.
    """
    if confidence is None or (isinstance(confidence, float) and math.isnan(confidence)):
        return "—"
    tail = 1.0 - float(confidence) / 100.0
    if tail <= 0:
        return f"less than once in 10^16 normal {period}s"
    return _every(1.0 / tail, period)


def rarity_of_tail(log10_tail: float, period_windows: int, period: str = "week") -> str:
    """:func:`rarity` from a window's calibrated tail probability itself (``log10``, as the
    detector's ``score_samples``: lower = more abnormal), so alerts far beyond the confidence's
    100 still rank: a normal period of ``period_windows`` windows shows one this unusual with
    probability ``1 - (1 - p)^n``."""
    if log10_tail is None or math.isnan(log10_tail):
        return "—"
    if log10_tail <= math.log10(FLOOR) + 1:
        # Beyond a bounded tail's end: the calibration cannot say how rare, only that it is.
        return f"rarer than the model can measure (past every normal {period} it learnt from)"
    p = min(10.0**log10_tail, 1.0)
    q = -math.expm1(period_windows * math.log1p(-p)) if p < 1 else 1.0
    if q > 0:
        return _every(1.0 / q, period)
    # p so small that even log1p cannot see it: q is n p to many digits.
    return f"once in 10^{math.floor(-(log10_tail + math.log10(period_windows)))} normal {period}s"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """"1 incident", "3 incidents", "no incidents"."""
    if n == 0:
        return f"no {plural or noun + 's'}"
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def share(fraction: float) -> str:
    """A fraction (0.23) as "23 %"; below 1 % one decimal ("0.4 %"); NaN as a dash."""
    if fraction is None or math.isnan(fraction):
        return "—"
    percent = 100 * fraction
    # Never round a share into "all" or "none" it is not: 249 of 250 is not 100 %.
    if 0 < percent < 0.05:
        return "<0.1 %"
    if 99.5 <= percent < 100:
        return ">99 %"
    return f"{percent:.1f} %" if 0 < abs(percent) < 1 else f"{percent:.0f} %"


def metric_words(metric: str) -> str:
    """A metric's name in words: ``latency_p95`` is "latency p95", ``cpu_usage`` "CPU"."""
    return FEATURE_NAMES.get(f"{metric}_z", metric.replace("_", " "))


def join_words(items: list[str], last: str = "and") -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def duration_words(minutes: float) -> str:
    """A length of time as a person says it: "1 minute", "100 minutes", "2.5 hours", "3 days"."""
    if minutes < 120:
        return count(round(minutes), "minute")
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.0f} hours" if round(hours, 1).is_integer() else f"{hours:.1f} hours"
    return f"{hours / 24:.0f} days"
