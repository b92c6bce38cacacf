"""The vocabulary every verdict source shares: score directions and per-window verdicts.

Score direction
---------------
Every estimator that scores rows declares, as the class attribute ``score_direction``,
which way its ``score_samples`` points (:class:`ScoreDirection`). The
:class:`~workbench.detect.forest.IsolationForestDetector` follows scikit-learn
(lower = more abnormal); the :class:`~workbench.detect.series.SeriesDetector`
follows river (higher = more abnormal). Code that compares scores reads the
attribute instead of assuming one convention.

Verdicts
--------
A *verdict source* is anything that says, per window, "abnormal or not": a model
(its calibrated confidence against a threshold) or a rule set (some rule fired in
the window). Each source gives one *verdict frame*, indexed by window start
(UTC), with the columns of :data:`VERDICT_COLUMNS`:

``kind`` : :class:`VerdictKind`
    ``"rule"`` or ``"model"``; the only thing the hybrid policy asks of a source,
    because it decides the action (a rule pages, a model asks for an investigation).
``flag`` : bool
    The source says the window is abnormal.
``confidence`` : float
    0-100, higher = more abnormal; NaN when the source has no confidence (rules)
    or no verdict for the window (a model before its first training).
``detail`` : str
    Comma-joined names of what fired (rule names, never empty on a flagged rule
    window: the alert names them); ``""`` for a model.
``first_seen`` : Timestamp
    When the verdict could first be known: the first firing sample of a rule,
    the end of the window for a model (its verdict needs the whole window).

A frame may omit windows: an omitted window is not flagged. The policy
(:func:`workbench.alerting.policy.window_verdicts`) takes a list of such frames,
whatever produced them, as ADTK's aggregators take any detector's output.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from workbench.errors import DataError

__all__ = ["VERDICT_COLUMNS", "ScoreDirection", "VerdictKind", "check_verdicts", "model_verdicts", "verdict_frame"]


class ScoreDirection(StrEnum):
    """Which way a ``score_samples`` points."""

    #: scikit-learn's convention (``IsolationForest.score_samples``).
    LOWER_IS_ABNORMAL = "lower_is_abnormal"
    #: river's convention (``AnomalyDetector.score_one``).
    HIGHER_IS_ABNORMAL = "higher_is_abnormal"


class VerdictKind(StrEnum):
    """What produced a verdict; the policy maps it to an action."""

    RULE = "rule"
    MODEL = "model"


def _kind(value) -> VerdictKind:
    try:
        return VerdictKind(value)
    except ValueError:
        raise DataError(f"unknown verdict kind {value!r}; expected one of {[k.value for k in VerdictKind]}") from None


#: The columns of a verdict frame, in order (see the module notes).
VERDICT_COLUMNS = ["kind", "flag", "confidence", "detail", "first_seen"]


def verdict_frame(index: pd.DatetimeIndex, kind: VerdictKind, flag, confidence=np.nan, detail="", first_seen=pd.NaT) -> pd.DataFrame:
    """A verdict frame from its columns (scalars broadcast over ``index``)."""
    kind = _kind(kind)
    frame = pd.DataFrame(
        {"flag": flag, "confidence": confidence, "detail": detail, "first_seen": first_seen},
        index=pd.DatetimeIndex(index),
    )
    frame.insert(0, "kind", kind.value)
    frame["flag"] = frame["flag"].astype(bool)
    frame["confidence"] = frame["confidence"].astype(float)
    frame["first_seen"] = pd.to_datetime(frame["first_seen"])
    return frame


def check_verdicts(frame: pd.DataFrame) -> VerdictKind | None:
    """The frame's kind (``None`` for an empty frame), after checking it is a verdict frame.

    Raises
    ------
    DataError
        A column is missing, or the frame mixes kinds.
    """
    missing = [c for c in VERDICT_COLUMNS if c not in frame]
    if missing:
        raise DataError(f"a verdict frame needs the columns {VERDICT_COLUMNS}; missing {missing}")
    kinds = set(frame["kind"])
    if len(kinds) > 1:
        raise DataError(f"a verdict frame holds one kind of source, got {sorted(kinds)}")
    return _kind(kinds.pop()) if kinds else None


def model_verdicts(confidence: pd.Series, window: str, threshold: float) -> pd.DataFrame:
    """A model's verdict frame from its confidence per window.

    Parameters
    ----------
    confidence
        Calibrated confidence 0-100 per window start (higher = more abnormal); NaN
        where the model gave no verdict (never flagged).
    window
        Window width; the verdict is known when the window closes.
    threshold
        Confidence at and above which the window is flagged.
    """
    confidence = confidence.astype(float)
    return verdict_frame(
        confidence.index,
        VerdictKind.MODEL,
        flag=(confidence >= threshold).to_numpy(),
        confidence=confidence.to_numpy(),
        first_seen=confidence.index + pd.Timedelta(window),
    )
