"""``workbench review``'s workflow: one labelled incident or live episode, its similar labelled
incidents (or "no similar past incident"), and the steps that resolved them, each citing its
incidents.

Every labelled incident's signature is computed against its own service's baseline, fitted on
normal windows only (:mod:`workbench.runbooks.signature`); the incident under review is left out
of both the history it is compared with and the threshold's calibration.

An episode (its key from the live loop's alert state, ``aiops-workbench/<service>/<start>``) is
reviewed as its page was advised (:mod:`workbench.workflows.advice`): against the incidents that
ended before it opened, its length left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from workbench._util import jsonable
from workbench.alerting.episodes import KEY_PREFIX
from workbench.alerting.state import alert_state_exists, open_alert_state
from workbench.config import Config
from workbench.errors import DataError, ParameterError
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_incidents
from workbench.runbooks.llm import LLMSettings, Wording, word
from workbench.runbooks.signature import (
    Signature,
    signature,
)
from workbench.runbooks.similar import Retrieval, SimilarIncidents
from workbench.runbooks.suggest import Step, suggest_steps
from workbench.sources import load_service
from workbench.workflows.advice import Advisor

__all__ = ["Review", "history_signatures", "incident_windows", "review", "review_episode", "review_if_any"]

#: What a review shows of an episode's row.
_EPISODE_SHOWN = ("key", "status", "action", "source", "rules", "top_features", "model_version", "suggestion", "citations")


@dataclass(frozen=True)
class Review:
    """What ``workbench review`` and 08 show for one incident."""

    signature: Signature
    retrieval: Retrieval
    steps: list[Step]
    wording: Wording
    calibration: dict
    #: The incident's own cause, from the log ("" when none was written).
    cause: str = ""
    #: For a live episode: its row from the alert state (action, source, rules, top features, ...).
    episode: dict | None = None

    def as_dict(self) -> dict:
        s = self.signature
        return jsonable(
            {
                "incident": {"id": s.id, "service": s.service, "start": s.start, "end": s.end, "cause": self.cause, "missing_metrics": list(s.missing)},
                "kind": "episode" if self.episode else "incident",
                "episode": {k: self.episode.get(k) for k in _EPISODE_SHOWN} if self.episode else None,
                "abstained": self.retrieval.abstained,
                "answer": self.retrieval.message,
                "threshold": self.retrieval.threshold,
                "calibration": self.calibration,
                "similar": [m.as_dict() for m in self.retrieval.matches],
                "nearest": [m.as_dict() for m in self.retrieval.nearest],
                "steps": [x.as_dict() for x in self.steps],
                "wording": self.wording.as_dict() | {"steps": None},
            }
        )


def history_signatures(config: Config, source: str | None = None):
    """Every labelled incident's signature (a frame indexed by id), the per-service deviations
    they were read from, and the events calendar."""
    advisor = Advisor(config, source)
    table = advisor.history()
    return table, advisor.deviations(), advisor.events()


def review(config: Config, incident_id: str | None = None, source: str | None = None, llm: LLMSettings | None = None) -> Review:
    """The review of ``incident_id``: a labelled incident's id or a live episode's key
    (default: the latest labelled incident).

    Raises
    ------
    DataError
        No labelled incident with metrics to compare.
    ParameterError
        ``incident_id`` is neither in the incident log nor an episode in the alert state.
    """
    if incident_id and incident_id.startswith(KEY_PREFIX + "/"):
        return review_episode(config, incident_id, source, llm)
    table, deviation, events = history_signatures(config, source)
    if table.empty:
        raise DataError("no labelled incidents with metrics to review: label incidents first (02_label_incidents)")
    incident_id = incident_id or table.sort_values("start").index[-1]
    if incident_id not in table.index:
        known = ", ".join(table.index[:5]) + (" ..." if len(table) > 5 else "")
        raise ParameterError(f"unknown incident {incident_id!r}; the log has {known}")
    row = table.loc[incident_id]
    sig = signature(deviation[row["service"]], row["service"], row["start"], row["end"], events=events, id=incident_id)
    history = table.drop(index=incident_id)
    if history.empty:
        # A team's first labelled incident: nothing to compare with, which is an answer, not an error.
        none = Retrieval(incident_id, row["service"], (), (), math.inf, True, "no similar past incident: the history holds no other incident")
        return Review(sig, none, [], word(sig, none, [], None), {"reason": "the only labelled incident"}, _text(row["cause"]))
    # The incident under review is neither in the history it is compared with nor in the calibration.
    index = SimilarIncidents().fit(history)
    retrieval = index.retrieve(table.loc[[incident_id]])[0]
    steps = suggest_steps(retrieval)
    return Review(sig, retrieval, steps, word(sig, retrieval, steps, llm), index.calibration_, _text(row["cause"]))


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _episode(config: Config, key: str) -> dict:
    """The episode ``key`` from the alert state, or a ParameterError naming the latest keys."""
    if not alert_state_exists(config):
        raise ParameterError(f"unknown episode {key!r}: the live loop has no alert state yet (workbench score)")
    with open_alert_state(config) as state:
        episodes = state.episodes()
    found = episodes[episodes["key"] == key]
    if found.empty:
        latest = ", ".join(episodes["key"].tail(3)) or "none"
        raise ParameterError(f"unknown episode {key!r}; the latest in the alert state: {latest}")
    return found.iloc[0].to_dict()


def review_episode(config: Config, key: str, source: str | None = None, llm: LLMSettings | None = None) -> Review:
    """The review of the live episode ``key`` (see the module notes); its span runs from its
    first alerting window to its resolution, or to its last alert while it is open."""
    episode = _episode(config, key)
    end = episode["resolved"] if episode["resolved"] is not None and pd.notna(episode["resolved"]) else episode["last_alert"]
    advisor = Advisor(config, source)
    try:
        sig, retrieval, calibration = advisor.retrieve(episode["service"], episode["opened"], end, id=key)
    except DataError as exc:
        if "no labelled incident ended before" not in str(exc):
            raise
        # Nothing labelled before it: an answer, as for a team's first incident.
        sig = signature(advisor.deviation(episode["service"]), episode["service"], episode["opened"], end, events=advisor.events(), id=key)
        retrieval = Retrieval(key, episode["service"], (), (), math.inf, True, f"no similar past incident: {exc}")
        return Review(sig, retrieval, [], word(sig, retrieval, [], None), {"reason": str(exc)}, "", episode)
    steps = suggest_steps(retrieval)
    return Review(sig, retrieval, steps, word(sig, retrieval, steps, llm), calibration, "", episode)


def review_if_any(config: Config, incident_id: str | None = None, source: str | None = None, llm: LLMSettings | None = None) -> Review | None:
    """:func:`review`, or ``None`` when the incident log is empty and no incident was asked for
    (08 on a team's new project: the report says there is nothing to review yet)."""
    if incident_id is None and read_incidents(config.path("incidents"), list(config.services)).empty:
        return None
    return review(config, incident_id, source, llm)


def incident_windows(config: Config, result: Review | None, source: str | None = None, margin: str = "6h") -> pd.DataFrame:
    """The reviewed service's windows from ``margin`` before the incident to ``margin`` after
    (empty without a review)."""
    if result is None:
        return pd.DataFrame()
    sig, pad = result.signature, pd.Timedelta(margin)
    samples = load_service(config, sig.service, source=source, start=sig.start - pad, end=sig.end + pad)
    return to_windows(samples, config.window, config.max_fill)
