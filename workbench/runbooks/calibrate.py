"""The similarity below which "no similar past incident" is the honest answer, calibrated by
leave-one-out on the labelled history.

Each past incident in turn plays a new one (it is never its own neighbour), and its
similarities to the others are labelled by whether they share its kind. The threshold is
the similarity that best separates the two labels, by balanced accuracy (the mean of the
share of same-kind pairs accepted and the share of other-kind pairs rejected), so neither
label wins by its numbers alone. Two ways to form the pairs (:class:`Calibration`):

``novel`` (default)
    Per incident two pairs: its nearest incident of the **same** kind (what a match looks
    like) and its nearest incident of **another** kind (what it would find if its kind
    had never been seen: a novel incident). This asks the question abstention answers,
    "has anything like this happened before?", and gives one pair of each label per
    incident, so the threshold rests on as many pairs as there are incidents.
``nearest``
    Per incident one pair: its nearest other incident, labelled by whether it shares the
    kind. Its other-kind pairs are the rare confusions between kinds that look alike
    (an error burst and a partial outage), so with a few dozen incidents the threshold
    rests on a handful of pairs and moves a lot from one history to the next. On six
    sample seeds (11, 13, 17, 19, 23, 29; not the reported seed 7) it abstained as often on
    kinds never seen as ``novel`` (72 % against 73 %), but on incidents of known kinds it
    answered 49 % of the time (6 % to 94 % by seed) against ``novel``'s 86 % (77 % to 94 %).
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

__all__ = ["Calibration", "best_threshold", "calibrate", "pairs"]

#: Similarities closer than this are a tie (floating-point noise between equal vectors).
TIE = 1e-9
#: Similarities computed at once (about 32 MB of float64): rows per chunk = this / history size.
_CHUNK_CELLS = 4_000_000


class Calibration(StrEnum):
    """How the leave-one-out pairs are formed (see the module docstring)."""

    NOVEL = "novel"
    NEAREST = "nearest"


def pairs(vectors: np.ndarray, kinds: np.ndarray, services: np.ndarray, ids: np.ndarray, how: Calibration) -> tuple[np.ndarray, np.ndarray]:
    """The leave-one-out similarities and whether each pair shares its kind.

    Cosine similarity (1 - cosine distance; higher = closer) between rows of ``vectors``.
    Incidents of unknown kind (``""``) neither ask nor count as a same- or other-kind
    neighbour. For ``nearest``, equal similarities resolve as retrieval does: the same
    service first, then ids in order. Costs one pass over the n x n similarities, in chunks.
    """
    norms = np.linalg.norm(vectors, axis=1)
    unit = vectors / np.where(norms == 0, 1.0, norms)[:, None]
    known = kinds != ""
    id_rank = np.argsort(np.argsort(ids.astype(str)))
    sims, labels = [], []
    chunk = max(1, _CHUNK_CELLS // len(vectors))
    for lo in range(0, len(vectors), chunk):
        rows = np.arange(lo, min(lo + chunk, len(vectors)))
        rows = rows[known[rows]]
        if not len(rows):
            continue
        S = unit[rows] @ unit.T
        S[np.arange(len(rows)), rows] = -np.inf  # never its own neighbour
        same = kinds[None, :] == kinds[rows, None]  # the asking rows are of known kind, so "" never matches
        if how is Calibration.NOVEL:
            for mask, label in ((same, True), (~same & known[None, :], False)):
                best = np.where(mask, S, -np.inf).max(axis=1)
                found = np.isfinite(best)
                sims.append(best[found])
                labels.append(np.full(found.sum(), label))
        else:
            best = S.max(axis=1)
            ties = S >= best[:, None] - TIE
            # Among ties: the same service first, then the lowest id.
            cost = np.where(ties, id_rank[None, :] - len(ids) * (services[None, :] == services[rows, None]), np.inf)
            nearest = cost.argmin(axis=1)
            found = np.isfinite(best)
            sims.append(best[found])
            labels.append(same[np.arange(len(rows)), nearest][found])
    if not sims:
        return np.array([]), np.array([], dtype=bool)
    return np.concatenate(sims), np.concatenate(labels)


def best_threshold(sims: np.ndarray, positive: np.ndarray) -> tuple[float, float | None]:
    """The threshold on ``sims`` that best tells ``positive`` pairs from the rest, and its balanced accuracy.

    Candidates lie halfway between neighbouring similarities; on equal balanced accuracy the
    lower threshold wins (it answers more often). With one label only there is nothing to
    balance (accuracy ``None``): all positive accepts the lowest similarity seen, all
    negative abstains always (``inf``).
    """
    if positive.all():
        return float(sims.min()) - 1e-6, None
    if not positive.any():
        return math.inf, None
    values = np.unique(sims)
    candidates = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    pos, neg = np.sort(sims[positive]), np.sort(sims[~positive])
    accepted = 1 - np.searchsorted(pos, candidates, side="left") / len(pos)  # same-kind pairs at or above
    rejected = np.searchsorted(neg, candidates, side="left") / len(neg)  # other-kind pairs below
    score = (accepted + rejected) / 2
    best = int(np.argmax(score))  # the first maximum: the lowest threshold
    return float(candidates[best]), round(float(score[best]), 4)


def calibrate(vectors: np.ndarray, kinds: np.ndarray, services: np.ndarray, ids: np.ndarray, how: Calibration) -> tuple[float, dict]:
    """The abstention threshold for a history, with a record of how it was chosen.

    Returns ``(threshold, record)``; ``threshold`` is ``inf`` (always abstain) when the
    history cannot show what a match looks like: fewer than two incidents of known kind,
    or no two of one kind. The record says why.
    """
    sims, positive = pairs(vectors, kinds, services, ids, how)
    record = {"how": f"leave-one-out ({how.value} pairs), highest balanced accuracy", "pairs": int(len(sims)), "same_kind_pairs": int(positive.sum())}
    if not len(sims) or not positive.any():
        reason = "no two past incidents share a kind, so nothing shows what a match looks like"
        if (kinds != "").sum() < 2:
            reason = "fewer than two past incidents with a known kind (a cause): nothing to calibrate on"
        return math.inf, {**record, "threshold": math.inf, "balanced_accuracy": None, "reason": reason}
    threshold, accuracy = best_threshold(sims, positive)
    return threshold, {**record, "threshold": threshold, "balanced_accuracy": accuracy}
