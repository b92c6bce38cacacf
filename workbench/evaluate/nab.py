"""The Numenta Anomaly Benchmark scorer, implemented from NAB's published rules.

Rules (Lavin & Ahmad 2015; NAB's ``sweeper.py``; summarised in the corpus README):

* The first ``min(floor(0.15 n), 750)`` rows of a file are probationary: not scored.
* Each labelled window ``[left, right]`` (row indices) has width ``w = right - left + 1``.
  Inside a window only the earliest detection counts; at row ``i`` it is worth
  ``tp * sigma(y) / sigma(-1)`` with ``y = -(right - i + 1) / w`` and the scaled
  sigmoid ``sigma(y) = 2 / (1 + exp(5 y)) - 1`` (``-1`` for ``y > 3``). A window
  without a detection costs ``-fn``.
* A detection outside every window costs ``fp * sigma(...)`` per row: ``-fp`` before
  the first window; after a window, ``fp * sigma((i - right_prev) / (w_prev - 1))``,
  which is close to zero just after the window and ``-fp`` far from it.
* One threshold per detector and profile, chosen by sweeping every distinct score over
  the whole corpus; a row is a detection when its score is at or above the threshold.
* The corpus total is normalised as ``100 (raw - null) / (perfect - null)``: the null
  detector never detects (``-fn`` per window), the perfect one detects at the left edge
  of every window (``tp`` per window).

Reading the corpus and running a detector over it is :mod:`workbench.workflows.nab`'s job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import DataError, ParameterError

__all__ = [
    "PROFILES",
    "CorpusScore",
    "NabFile",
    "Profile",
    "label_rows",
    "probation_rows",
    "score_corpus",
    "scaled_sigmoid",
]


@dataclass(frozen=True)
class Profile:
    """NAB cost weights: true positive, false negative, false positive."""

    tp: float
    fn: float
    fp: float


PROFILES: dict[str, Profile] = {
    "standard": Profile(1.0, 1.0, 0.11),
    "reward_low_FP_rate": Profile(1.0, 1.0, 0.22),
    "reward_low_FN_rate": Profile(1.0, 2.0, 0.11),
}


def scaled_sigmoid(y: np.ndarray | float) -> np.ndarray:
    """NAB's scaled sigmoid: about 1 at ``y = -1``, 0 at ``y = 0``, -1 for ``y > 3``."""
    y = np.asarray(y, dtype=float)
    return np.where(y > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * y)) - 1.0)


def probation_rows(n: int, share: float = 0.15) -> int:
    """Rows at the start of a file that are not scored."""
    return int(min(math.floor(share * n), share * 5000))


@dataclass
class NabFile:
    """One corpus file: its rows (``timestamp, value``) and its windows as row indices."""

    name: str
    frame: pd.DataFrame
    windows: list[tuple[int, int]]


def label_rows(n: int, windows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the window it belongs to (-1 outside) and its unweighted NAB score.

    Inside a window the unweighted score is ``sigma(y) / sigma(-1)`` (1 at the left
    edge); outside it is the (negative) false-positive factor.
    """
    window_id = np.full(n, -1, dtype=int)
    unweighted = np.full(n, -1.0)
    max_tp = float(scaled_sigmoid(-1.0))
    rows = np.arange(n)
    edges = sorted(windows)
    for k, (left, right) in enumerate(edges):
        width = right - left + 1
        inside = slice(left, right + 1)
        window_id[inside] = k
        unweighted[inside] = scaled_sigmoid(-(right - rows[inside] + 1) / width) / max_tp
        after_end = edges[k + 1][0] if k + 1 < len(edges) else n
        after = slice(right + 1, after_end)
        denominator = max(width - 1, 1)
        unweighted[after] = scaled_sigmoid((rows[after] - right) / denominator)
    return window_id, unweighted


@dataclass
class CorpusScore:
    """The corpus result for one profile."""

    profile: str
    score: float  # normalised: null detector 0, perfect 100
    threshold: float
    raw: float
    null: float
    perfect: float
    detected_windows: int
    windows: int
    false_positive_rows: int


def score_corpus(scores: dict[str, np.ndarray], files: list[NabFile], profile: str = "standard") -> CorpusScore:
    """Score a detector's outputs over the corpus with the best single threshold.

    Parameters
    ----------
    scores
        ``{file name: anomaly scores in [0, 1], one per row}``.
    files
        The corpus, as from :func:`load_corpus`.
    profile
        A key of :data:`PROFILES`.
    """
    if profile not in PROFILES:
        raise ParameterError(f"unknown profile {profile!r}; choose from {list(PROFILES)}")
    weights = PROFILES[profile]
    all_scores, all_values, all_windows = [], [], []
    n_windows = 0
    for f in files:
        s = np.asarray(scores[f.name], dtype=float)
        if len(s) != len(f.frame):
            raise DataError(f"{f.name}: {len(s)} scores for {len(f.frame)} rows")
        window_id, unweighted = label_rows(len(s), f.windows)
        start = probation_rows(len(s))
        in_window = window_id[start:] >= 0
        value = np.where(in_window, weights.tp * unweighted[start:], weights.fp * unweighted[start:])
        all_scores.append(np.nan_to_num(s[start:], nan=0.0))
        all_values.append(value)
        all_windows.append(np.where(in_window, window_id[start:] + n_windows, -1))
        n_windows += len(f.windows)
    score = np.concatenate(all_scores)
    value = np.concatenate(all_values)
    window = np.concatenate(all_windows)

    null = -weights.fn * n_windows
    perfect = weights.tp * n_windows
    # Sweep thresholds from high to low; each distinct score is a candidate threshold.
    order = np.argsort(-score, kind="stable")
    best_in_window = np.full(n_windows, -weights.fn)
    total = null
    best_total, best_threshold, best_detected, best_fp = null, float("inf"), 0, 0
    detected, fp_rows = 0, 0
    i = 0
    while i < len(order):
        threshold = score[order[i]]
        j = i
        while j < len(order) and score[order[j]] == threshold:
            row = order[j]
            w = window[row]
            if w < 0:
                total += value[row]
                fp_rows += 1
            elif value[row] > best_in_window[w]:
                if best_in_window[w] == -weights.fn:
                    detected += 1
                total += value[row] - best_in_window[w]
                best_in_window[w] = value[row]
            j += 1
        if total > best_total:
            best_total, best_threshold, best_detected, best_fp = total, float(threshold), detected, fp_rows
        i = j
    return CorpusScore(
        profile=profile,
        score=100.0 * (best_total - null) / (perfect - null),
        threshold=best_threshold,
        raw=best_total,
        null=null,
        perfect=perfect,
        detected_windows=best_detected,
        windows=n_windows,
        false_positive_rows=best_fp,
    )
