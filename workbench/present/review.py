"""What the 08 report shows after an incident: the answer in one sentence, what moved and in
which order, the similar past incidents and the steps that resolved them, with citations.

Everything is read from a :class:`workbench.workflows.review.Review`; this module only words it.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd

from workbench.contracts import CANONICAL_METRICS
from workbench.present.headline import ANSWER, scope_words
from workbench.present.plots import metrics_timeline
from workbench.present.words import count, duration_words, metric_words
from workbench.runbooks.similar import cause_kind

__all__ = ["NOTHING_YET", "abstention_words", "nothing_moved_words", "moved_table", "review_headline", "review_scope", "review_timeline", "similar_table", "steps_table"]

#: What 08 says on a project whose incident log is still empty.
NOTHING_YET = (
    "No incident is labelled yet, so there is nothing to review: label incidents in 02_label_incidents "
    "and this report compares each one with those before it."
)

#: The deviation threshold the signature's squash was built with (``signature(threshold=3)``).
THRESHOLD = 3.0


def _kind_words(cause: str) -> str:
    return cause_kind(cause).replace("_", " ") if cause else "cause not recorded"


def _lasted(review) -> str:
    return duration_words((review.signature.end - review.signature.start) / pd.Timedelta(minutes=1))


#: A live episode's action, as the person paged would name it.
_ACTION_WORDS = {"page": "page", "page_with_context": "page", "investigate": "investigation"}


def _subject(review, cause: str) -> str:
    """What is reviewed, in words: a labelled incident by its id and kind, an episode by what it raised."""
    sig = review.signature
    if review.episode is None:
        return f"{sig.id} on {sig.service} ({_kind_words(cause)}, {_lasted(review)})"
    ep = review.episode
    state = "still open" if ep["status"] == "open" else "resolved"
    what = _ACTION_WORDS.get(ep["action"], str(ep["action"]).replace("_", " "))
    return f"the {what} on {sig.service} from {sig.start:%Y-%m-%d %H:%M} ({state}, {_lasted(review)} of alerts)"


def review_headline(review, cause: str | None = None) -> dict:
    """The answer sentence and a few figures for ``review`` (``None``: nothing labelled yet).

    ``cause`` is the incident's own; default: the one the review read from the log.
    """
    if review is None:
        return {ANSWER: NOTHING_YET, "labelled incidents": 0}
    cause = review.cause if cause is None else cause
    sig, found, steps = review.signature, review.retrieval, review.steps
    what = _subject(review, cause)
    if found.abstained or not found.matches:
        closest = found.nearest[0] if found.nearest else None
        near = f"the closest, {closest.id} on {closest.service}, is only {closest.similarity:.2f} similar" if closest else "the log holds no other incident"
        bar = f" (the history needs {found.threshold:.2f})" if closest and math.isfinite(found.threshold) else ""
        answer = f"Nothing like {what} has happened before: {near}{bar}, so there are no steps to suggest."
    else:
        best, others = found.matches[0], len(found.matches) - 1
        more = f" and {count(others, 'other')}" if others else ""
        lead = f"{what[:1].upper()}{what[1:]} looks most like {best.id} on {best.service} ({best.similarity:.2f} similar){more}"
        if steps:
            top = steps[0]
            taken = f"{len(top.incidents)} of {len(found.matches)}"
            if 2 * len(top.incidents) > len(found.matches):
                answer = f"{lead}; the step most of them took: “{top.text}” ({taken})."
            else:  # a plurality of votes is not "most of them"
                answer = f"{lead}; the strongest suggested step: “{top.text}” (taken by {taken})."
        else:
            answer = f"{lead}; their resolutions name no step."
    return {
        ANSWER: answer,
        "episode" if review.episode else "incident": sig.id,
        "service": sig.service,
        "started": f"{sig.start:%Y-%m-%d %H:%M}",
        "lasted": _lasted(review),
        "similar past incidents": len(found.matches),
        "suggested steps": len(steps),
    }


def review_scope(review) -> str | None:
    """Which service and days the review covers (``None`` without one)."""
    return None if review is None else scope_words([review.signature.service], review.signature.start, review.signature.end)


def review_timeline(windows: pd.DataFrame, review):
    """The service's metrics around the incident, the incident shaded; a note without one."""
    if review is None or windows.empty:
        fig, ax = plt.subplots(figsize=(8, 1))
        ax.text(0.5, 0.5, "no incident to draw", ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
        return fig
    sig = review.signature
    incident = pd.DataFrame([{"id": sig.id, "service": sig.service, "start": sig.start, "end": sig.end, "severity": "", "cause": review.cause}])
    return metrics_timeline(windows, incident, title=f"{sig.id} on {sig.service}")


def nothing_moved_words(review) -> str:
    """What the moved-metrics table says when it is empty."""
    if review is None:
        return "No incident to look at yet."
    return "No metric moved beyond three robust standard deviations from its usual level."


def moved_table(review) -> pd.DataFrame:
    """The metrics that moved, first mover first: how far at worst and on average, in words."""
    if review is None:
        return pd.DataFrame(columns=["metric", "moved", "at its worst", "on average"])
    vector = review.signature.vector
    rows = []
    for metric in CANONICAL_METRICS:
        if metric in review.signature.missing or not vector.get(f"{metric}_direction", 0):
            continue
        worst = math.copysign(THRESHOLD * math.expm1(abs(vector[f"{metric}_worst"])), vector[f"{metric}_worst"])
        mean = math.copysign(THRESHOLD * math.expm1(abs(vector[f"{metric}_mean"])), vector[f"{metric}_mean"])
        order = vector[f"{metric}_order"]
        rows.append(
            {
                "metric": metric_words(metric),
                "moved": round(1 / order) if order > 0 else None,
                "at its worst": f"{'above' if worst > 0 else 'below'} its usual level (z {worst:+.1f})",
                "on average": f"z {mean:+.1f}",
            }
        )
    rows.sort(key=lambda r: (r["moved"] is None, r["moved"] or 0))  # first mover first; stable otherwise
    for row in rows:
        row["moved"] = "—" if row["moved"] is None else _ordinal(row["moved"])
    return pd.DataFrame(rows, columns=["metric", "moved", "at its worst", "on average"])


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def abstention_words(review) -> str:
    """What the similar-incidents table says when there are none: the retrieval's message as a sentence."""
    if review is None:
        return "No labelled incidents yet."
    message = review.retrieval.message
    return f"{message[0].upper()}{message[1:]}."


def similar_table(review) -> pd.DataFrame:
    """The similar past incidents, most similar first: similarity, cause and resolution."""
    matches = review.retrieval.matches if review is not None else ()
    return pd.DataFrame(
        [{"incident": m.id, "service": m.service, "similarity": f"{m.similarity:.2f}", "cause": m.cause or "—", "resolution": m.resolution or "—"} for m in matches],
        columns=["incident", "service", "similarity", "cause", "resolution"],
    )


def steps_table(review) -> pd.DataFrame:
    """The suggested steps, most votes first, each with the incidents it came from."""
    return pd.DataFrame(
        [{"step": s.text[:1].upper() + s.text[1:], "votes (sum of similarities)": f"{s.votes:.2f}", "from": ", ".join(s.incidents)} for s in (review.steps if review else [])],
        columns=["step", "votes (sum of similarities)", "from"],
    )
