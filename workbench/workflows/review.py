"""``workbench review``'s workflow: one labelled incident, its similar labelled incidents (or
"no similar past incident"), and the steps that resolved them, each citing its incidents.

Every labelled incident's signature is computed against its own service's baseline, fitted on
normal windows only (:mod:`workbench.runbooks.signature`); the incident under review is left out
of both the history it is compared with and the threshold's calibration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from workbench._util import jsonable
from workbench.config import Config
from workbench.errors import DataError, ParameterError
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.runbooks.llm import LLMSettings, Wording, word
from workbench.runbooks.signature import (
    Signature,
    deviations,
    fit_baseline,
    signature,
    signature_table,
)
from workbench.runbooks.similar import Retrieval, SimilarIncidents
from workbench.runbooks.suggest import Step, suggest_steps
from workbench.sources import load_service

__all__ = ["Review", "history_signatures", "incident_windows", "review", "review_if_any"]


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

    def as_dict(self) -> dict:
        s = self.signature
        return jsonable(
            {
                "incident": {"id": s.id, "service": s.service, "start": s.start, "end": s.end, "cause": self.cause, "missing_metrics": list(s.missing)},
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
    incidents = read_incidents(config.path("incidents"), list(config.services))
    events = read_events(config.path("events"))
    deviation = {}
    for service in sorted(set(incidents["service"])):
        windows = to_windows(load_service(config, service, source=source), config.window, config.max_fill)
        mine = events[events["service"].isin([service, "*"])]
        base = fit_baseline(windows, incidents[incidents["service"] == service], mine, margin=config.model.incident_margin)
        deviation[service] = deviations(base, windows, mine)
    return signature_table(incidents, deviation, events), deviation, events


def review(config: Config, incident_id: str | None = None, source: str | None = None, llm: LLMSettings | None = None) -> Review:
    """The review of ``incident_id`` (default: the latest labelled incident).

    Raises
    ------
    DataError
        No labelled incident with metrics to compare.
    ParameterError
        ``incident_id`` is not in the incident log.
    """
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
