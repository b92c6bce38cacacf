"""Runbook advice for a live episode: the similar labelled incidents that ended before it
opened, and the step that resolved most of them, with the incidents it came from.

The live loop (:mod:`workbench.workflows.score`) asks when an episode opens or escalates, so
the page itself carries the top suggestion and its citations; ``workbench review`` and 08
ask for an episode key (:func:`workbench.workflows.review.review`).

An episode is compared like a labelled incident (:mod:`workbench.runbooks.signature`, each
service's baseline fitted on its normal windows), with two differences:

- the history holds only incidents that **ended before the episode opened**: a replay of
  past weeks never suggests what a later incident taught, as the live loop could not have;
- the ``span`` block is left out (weight 0): an open episode's length is only its length so
  far, and a page at its first window would otherwise look like every 15-minute incident.

Built once per run and lazy: nothing is read until an episode needs advice, then each
service's metrics once, up to the run's clock (``until``), with the incidents labelled by then;
a read that failed is not retried in the same run. (Within a replay the baselines are fitted
on windows up to the replay's end, so they see a little after an early episode; the history
of incidents it is compared with never does.) Advice is a courtesy to the person paged, never a condition of the
page: any failure leaves the advice empty and :attr:`Advisor.problem` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from workbench.alerting.episodes import ADVICE_FIELDS
from workbench.config import Config
from workbench.errors import DataError
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.runbooks.signature import (
    Signature,
    deviations,
    fit_baseline,
    signature,
    signature_table,
)
from workbench.runbooks.similar import Retrieval, SimilarIncidents
from workbench.runbooks.suggest import suggest_steps
from workbench.sources import load_service

__all__ = ["Advice", "Advisor", "service_deviation"]
#: Block weights for an episode: its length so far says nothing about its kind.
EPISODE_WEIGHTS = {"span": 0.0}


@dataclass(frozen=True)
class Advice:
    """What a page carries: the top step, the incidents it came from, and the retrieval's answer.

    Attributes
    ----------
    suggestion
        The step with the most similarity-weighted votes ("" when nothing was similar enough).
    citations
        The ids of the incidents that took it, most similar first, comma-separated.
    similar_incidents
        The retrieval's answer in one line: the closest past incident and its similarity,
        or "no similar past incident: ..." (a novel problem is worth knowing too).
    """

    suggestion: str = ""
    citations: str = ""
    similar_incidents: str = ""

    def fields(self) -> dict[str, str]:
        """The episode fields (:data:`~workbench.alerting.episodes.ADVICE_FIELDS`)."""
        return dict(zip(ADVICE_FIELDS, (self.suggestion, self.citations, self.similar_incidents), strict=True))


def service_deviation(
    config: Config, service: str, incidents: pd.DataFrame, events: pd.DataFrame, source: str | None = None, until: pd.Timestamp | None = None
) -> pd.DataFrame:
    """``service``'s robust z per window and metric over the source's data (up to ``until``
    when given), against a baseline fitted on its normal windows (its labelled incidents and
    planned events left out)."""
    samples = load_service(config, service, source=source, end=until) if until is not None else load_service(config, service, source=source)
    windows = to_windows(samples, config.window, config.max_fill)
    mine = events[events["service"].isin([service, "*"])]
    base = fit_baseline(windows, incidents[incidents["service"] == service], mine, margin=config.model.incident_margin)
    return deviations(base, windows, mine)


class Advisor:
    """Advice for episodes, for one run (see the module notes).

    Parameters
    ----------
    config
        The project: its incident log, events calendar and metric source.
    source
        A registered source name; ``None``: the configured one.
    until
        The run's clock: metrics and labelled incidents after it are not read (a replay of
        past weeks sees what a live run at its end would have). ``None``: everything.
    """

    def __init__(self, config: Config, source: str | None = None, until=None) -> None:
        self.config = config
        self.source = source
        self.until = None if until is None else pd.Timestamp(until)
        #: Why the last advice could not be given ("" when it was).
        self.problem = ""
        self._incidents: pd.DataFrame | None = None
        self._events: pd.DataFrame | None = None
        self._deviation: dict[str, pd.DataFrame] = {}
        self._table: pd.DataFrame | None = None
        self._indexes: dict[tuple[str, ...], SimilarIncidents] = {}
        #: What could not be read, per service: not tried again in this run.
        self._failed: dict[str, Exception] = {}

    def _load(self) -> None:
        if self._incidents is None:
            incidents = read_incidents(self.config.path("incidents"), list(self.config.services))
            self._incidents = incidents if self.until is None else incidents[incidents["end"] <= self.until]
            self._events = read_events(self.config.path("events"))

    def events(self) -> pd.DataFrame:
        """The events calendar, read once per run."""
        self._load()
        return self._events

    def deviation(self, service: str) -> pd.DataFrame:
        """``service``'s deviations (:func:`service_deviation`), read once per run; a read that
        failed is not retried in the same run (the next page must not wait for it again)."""
        self._load()
        if service in self._failed:
            raise self._failed[service]
        if service not in self._deviation:
            try:
                self._deviation[service] = service_deviation(self.config, service, self._incidents, self._events, self.source, self.until)
            except Exception as exc:
                self._failed[service] = exc
                raise
        return self._deviation[service]

    def deviations(self) -> dict[str, pd.DataFrame]:
        """The deviations read so far, per service (every service with a labelled incident once
        :meth:`history` has been built)."""
        return dict(self._deviation)

    def history(self) -> pd.DataFrame:
        """Every labelled incident's signature (a signature table), built once per run."""
        self._load()
        if self._table is None:
            deviation = {s: self.deviation(s) for s in sorted(set(self._incidents["service"]))}
            self._table = signature_table(self._incidents, deviation, self._events)
        return self._table

    def retrieve(self, service: str, start, end, id: str = "") -> tuple[Signature, Retrieval, dict]:
        """The span's signature, its similar incidents among those that ended by ``start``, and
        how the threshold was calibrated on them.

        Raises
        ------
        DataError
            No metrics in the span, or no labelled incident ended before it.
        """
        self._load()
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        sig = signature(self.deviation(service), service, start, end, events=self._events, id=id)
        table = self.history()
        past = table[(table["end"] <= start) & (table.index != id)]
        if past.empty:
            raise DataError(f"no labelled incident ended before {start}: nothing to compare {id or service} with")
        ids = tuple(past.index)
        if ids not in self._indexes:
            self._indexes[ids] = SimilarIncidents(weights=EPISODE_WEIGHTS).fit(past)
        index = self._indexes[ids]
        return sig, index.query(sig), index.calibration_

    def advise(self, episode: dict, end) -> Advice:
        """Advice for ``episode`` (an episode dict) as of ``end``; empty with :attr:`problem` set
        when there is none to give."""
        self.problem = ""
        try:
            _, retrieval, _ = self.retrieve(episode["service"], episode["opened"], end, id=episode["key"])
        except Exception as exc:  # noqa: BLE001 - advice must never hold back or fail a page
            self.problem = str(exc) if isinstance(exc, DataError) else f"{type(exc).__name__}: {exc}"
            return Advice()
        steps = suggest_steps(retrieval, limit=1)
        if not steps:
            return Advice(similar_incidents=retrieval.message)
        return Advice(steps[0].text, ", ".join(steps[0].incidents), retrieval.message)

    def __call__(self, episode: dict, end) -> dict[str, str]:
        """:meth:`advise` as the episode fields to merge (what :func:`~workbench.alerting.episodes.advance` takes)."""
        return self.advise(episode, end).fields()
