"""``workbench review``'s workflow: one labelled incident, its similar labelled incidents (or
"no similar past incident"), and the steps that resolved them, each citing its incidents.

Every labelled incident's signature is computed against its own service's baseline, fitted on
normal windows only (:mod:`workbench.runbooks.signature`); the incident under review is left out
of both the history it is compared with and the threshold's calibration.
"""

from __future__ import annotations

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

__all__ = ["Review", "history_signatures", "incident_windows", "review"]


@dataclass(frozen=True)
class Review:
    """What ``workbench review`` and 08 show for one incident."""

    signature: Signature
    retrieval: Retrieval
    steps: list[Step]
    wording: Wording
    calibration: dict

    def as_dict(self) -> dict:
        s = self.signature
        return jsonable(
            {
                "incident": {"id": s.id, "service": s.service, "start": s.start, "end": s.end, "missing_metrics": list(s.missing)},
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
    # The incident under review is neither in the history it is compared with nor in the calibration.
    index = SimilarIncidents().fit(table.drop(index=incident_id))
    retrieval = index.retrieve(table.loc[[incident_id]])[0]
    steps = suggest_steps(retrieval)
    sig = signature(deviation[row["service"]], row["service"], row["start"], row["end"], events=events, id=incident_id)
    return Review(sig, retrieval, steps, word(sig, retrieval, steps, llm), index.calibration_)


def incident_windows(config: Config, result: Review, source: str | None = None, margin: str = "6h") -> pd.DataFrame:
    """The reviewed service's windows from ``margin`` before the incident to ``margin`` after."""
    sig, pad = result.signature, pd.Timedelta(margin)
    samples = load_service(config, sig.service, source=source, start=sig.start - pad, end=sig.end + pad)
    return to_windows(samples, config.window, config.max_fill)
