"""Runbook suggestions: the steps that resolved similar past incidents, ordered by votes.

Each similar incident's ``resolution`` is cut into steps (at line breaks, ``;``, sentence
ends and "then"), and each step gets one vote per incident that took it, weighted by that
incident's similarity to the current one: a step two close incidents took outranks one a
single distant incident took. Steps are compared after light normalisation (case, spaces,
bullets, punctuation at the ends, and where it was done: "on checkout-batch-1", "from
eu-west-1a"), so "Batch job killed on checkout-batch-1." and "batch job killed" are one step
with two votes; the text shown is the most similar incident's, with its host. Every step cites the incidents it came from, so a person can check it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from workbench.errors import ParameterError
from workbench.runbooks.similar import Match, Retrieval

__all__ = ["Step", "normalise_step", "split_steps", "suggest_steps"]

#: Where one step ends and the next begins in a resolution written by a person.
_SPLIT = re.compile(r"\n+|;\s*|(?<=[.!?])\s+|,?\s+(?:and\s+)?then\s+", re.IGNORECASE)
#: A bullet or a step number at the start ("- ", "* ", "2. ", "3) ").
_BULLET = re.compile(r"^\s*(?:[-*\u2022]+|\d+[.)])\s*")
_ENDS = " \t.,;:!?-\u2013\u2014\"'"
#: Where a step was done, which differs from incident to incident: " on checkout-batch-1",
#: " from eu-west-1a", " in pod api-7f9c" (a name with a dash and a digit, as hosts, pods and
#: zones are named).
_WHERE = re.compile(r"\s+(?:on|from|in|at)\s+(?:host\s+|pod\s+|node\s+)?[a-z][\w.]*-[\w.-]*\d[\w.-]*\b", re.IGNORECASE)


@dataclass(frozen=True)
class Step:
    """One suggested step.

    Attributes
    ----------
    text
        The step as the most similar incident that took it wrote it.
    votes
        The sum of the similarities (0-1) of the incidents that took it; higher = stronger.
    incidents
        The ids of those incidents, most similar first.
    """

    text: str
    votes: float
    incidents: tuple[str, ...]

    def as_dict(self) -> dict:
        return asdict(self)


def normalise_step(text: str) -> str:
    """The form steps are compared in: lower case, single spaces, no bullet, no punctuation at
    the ends, no "on <host>" (see the module notes)."""
    return " ".join(_WHERE.sub("", _BULLET.sub("", text)).lower().split()).strip(_ENDS)


def split_steps(resolution: str) -> list[str]:
    """The steps of one resolution, as written (bullets and end punctuation removed), in order."""
    if not isinstance(resolution, str):
        return []
    steps = (_BULLET.sub("", part).strip(_ENDS) for part in _SPLIT.split(resolution))
    return [s for s in steps if s]


def suggest_steps(neighbours: Retrieval | Sequence[Match], limit: int | None = None) -> list[Step]:
    """The steps of the neighbours' resolutions, by similarity-weighted votes, each citing its incidents.

    Parameters
    ----------
    neighbours
        A :class:`~workbench.runbooks.similar.Retrieval` (its ``matches``: none when it
        abstained) or matches, most similar first.
    limit
        Keep at most this many steps; ``None``: all.

    Returns
    -------
    list of Step
        Most votes first; on equal votes, the step more incidents took, then the one met first.
        A match with a negative similarity (opposite moves) adds no weight.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ParameterError(f"limit must be a positive integer or None, got {limit!r}")
    matches = neighbours.matches if isinstance(neighbours, Retrieval) else tuple(neighbours)
    found: dict[str, dict] = {}
    for match in sorted(matches, key=lambda m: -m.similarity):
        for text in split_steps(match.resolution):
            step = found.setdefault(normalise_step(text), {"text": text, "votes": 0.0, "incidents": [], "first": len(found)})
            if match.id not in step["incidents"]:  # one vote per incident, however often it says it
                step["incidents"].append(match.id)
                step["votes"] += max(match.similarity, 0.0)
    ranked = sorted(found.values(), key=lambda s: (-round(s["votes"], 9), -len(s["incidents"]), s["first"]))
    steps = [Step(s["text"], round(s["votes"], 4), tuple(s["incidents"])) for s in ranked]
    return steps[:limit] if limit is not None else steps
