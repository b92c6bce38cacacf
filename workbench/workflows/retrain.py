"""``workbench retrain``'s workflow: train a challenger, compare it with the champion, decide.

For each service, under its retrain lock (a second retrain of the same service refuses at
once; different services run side by side):

1. load the metrics up to ``at`` and the labels known by then;
2. check drift of the champion over the last ``lifecycle.drift.span`` and log it;
3. with ``when_due``, stop here unless a retrain is due under ``lifecycle.policy``
   (:mod:`workbench.lifecycle.schedule`: weekly, or early when drift acted, by default);
4. train the challenger on the trailing ``model.train_span`` (``lifecycle.drift.train_span``
   while drift acts; incidents plus margin and planned events left out) and save it as a
   new immutable version;
5. replay champion and challenger on the same windows and compare them paired
   (:mod:`workbench.evaluate.challenge`), with the live loop's scores (the champion's and the
   previous challenger's shadow scores) in place of the replay wherever they exist; no
   champion yet: the new model becomes it;
6. append the decision to the history, promoted or not, with its figures.

A run killed before step 6 leaves the aliases and the history as they were (at most an
unaliased version is left, which ``models prune`` removes).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import pandas as pd

from workbench._util import parse_time, timestamped_id, try_lock
from workbench.alerting.state import alert_state_exists, open_alert_state
from workbench.config import Config
from workbench.errors import StoreError
from workbench.evaluate.challenge import challenge, compared_span, live_pairs
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.lifecycle.aliases import (
    CHALLENGER,
    CHAMPION,
    aliases,
    history,
    load_alias,
    record,
)
from workbench.lifecycle.schedule import retrain_due
from workbench.lifecycle.training import describe_model, train_latest
from workbench.lifecycle.versions import save_model, service_folder
from workbench.sources import load_service
from workbench.workflows.drift import check_service_drift

__all__ = ["RetrainResult", "retrain", "retrain_service"]


@dataclass
class RetrainResult:
    """One service's retrain: the verdict, the aliases after it, and the figures behind it."""

    service: str
    as_of: str
    verdict: str  # first | promote | keep | not_enough_evidence | not_due
    trigger: str
    champion: str | None = None
    previous_champion: str | None = None
    challenger: str | None = None
    reasons: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    drift: dict | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def retrain(
    config: Config,
    services: list[str] | None = None,
    at: str | pd.Timestamp | None = None,
    *,
    source: str | None = None,
    when_due: bool = False,
    by: str | None = None,
) -> list[RetrainResult]:
    """Retrain every service in ``services`` (default: all) as of ``at`` (default: now).

    Raises
    ------
    BusyError
        Another retrain of a service is running (services before it are done).
    DataError
        Too little history, or a champion that cannot be loaded (damaged, gone): named,
        and nothing about that service changes.
    """
    at = parse_time(at) if at is not None else pd.Timestamp.now(tz="UTC")
    by = by or f"retrain {timestamped_id()}"
    return [retrain_service(config, config.check_service(s), at, source=source, when_due=when_due, by=by) for s in services or list(config.services)]


def retrain_service(
    config: Config,
    service: str,
    at: pd.Timestamp,
    *,
    source: str | None = None,
    when_due: bool = False,
    by: str = "retrain",
    data: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> RetrainResult:
    """One service's retrain as of ``at`` (see :func:`retrain`).

    ``data`` is the service's ``(samples, windows)`` already loaded (a replay of many
    days loads them once); only what lies before ``at`` is used.
    """
    began = time.perf_counter()
    lock = service_folder(config, service) / ".retrain.lock"
    with try_lock(lock, f"another retrain of {service} is running; nothing was changed, try again when it ends"):
        width = pd.Timedelta(config.window)
        if data is None:
            samples = load_service(config, service, source=source, end=at)
            windows = to_windows(samples, config.window, config.max_fill)
        else:
            samples, windows = data[0][data[0].index < at], data[1]
        windows = windows[windows.index + width <= at]  # complete windows only
        incidents = read_incidents(config.path("incidents"), list(config.services))
        incidents = incidents[incidents["start"] < at]  # the labels an on-call team had by then
        events = read_events(config.path("events"))
        seen = aliases(config, service).get(CHAMPION)
        champion = load_alias(config, service, CHAMPION)[0] if seen else None
        result = RetrainResult(service, str(windows.index[-1] + width), "", "asked", previous_champion=seen, champion=seen)
        if champion is not None:
            result.drift = check_service_drift(config, service, champion, windows, events, at=windows.index[-1] + width, version=seen, incidents=incidents)
        if when_due:
            due, why = retrain_due(history(config, service), seen is not None, at, config.model.retrain_every, result.drift, config.lifecycle.policy, config.lifecycle.drift.cooldown)
            result.trigger = why
            if not due:
                result.verdict, result.reasons = "not_due", [why]
                result.seconds = round(time.perf_counter() - began, 2)
                return result
        if (result.drift or {}).get("status") == "act":
            # A new normal: learn from the shorter span so it outweighs the old one sooner (challenger and recipe alike).
            config = config.model_copy(update={"model": config.model.model_copy(update={"train_span": config.lifecycle.drift.train_span})})
        model = train_latest(service, windows, incidents, events, config.model, config.lifecycle.drift.span)
        version = save_model(config, model, {**describe_model(model), "trained_by": by}).name
        result.challenger = version
        extra = {"as_of": result.as_of, "trigger": result.trigger, "train_span": config.model.train_span}
        if champion is None:
            result.verdict, result.champion = "first", version
            result.reasons = ["the service had no champion: the first model becomes it"]
            record(config, service, action="first", moves={CHAMPION: version}, reason=result.reasons[0], by=by, expect={CHAMPION: None}, extra=extra)
        elif (short := _too_short(config, windows, at)) is not None:
            result.verdict, result.reasons = "not_enough_evidence", [short]
            record(config, service, action=result.verdict, moves={CHALLENGER: version}, reason=short, by=by, expect={CHAMPION: seen}, extra=extra)
            result.challenger = version
        else:
            live, why_not = _live_scores(config, service, seen, *compared_span(config, windows, at))
            contest = challenge(config, service, champion, samples, windows, incidents, events, at, deployable=model, live=live)
            comparison = contest.comparison
            result.verdict, result.reasons, result.figures = str(comparison.verdict), list(comparison.reasons), comparison.as_dict()
            span = len(contest.confidence)
            result.reasons.append(why_not or f"{contest.live_windows} of the {span} compared windows are live scores (champion and shadow challenger), the rest a replay")
            result.figures["live_windows"], result.figures["compared_windows"] = contest.live_windows, span
            result.figures["earlier_incidents"] = contest.earlier.assign(start=contest.earlier["start"].astype(str)).to_dict("records") if len(contest.earlier) else []
            promote = result.verdict == "promote"
            moves = {CHAMPION: version, CHALLENGER: None} if promote else {CHALLENGER: version}
            if promote:
                result.champion, result.challenger = version, None
            figures = {**result.figures, "drift_status": (result.drift or {}).get("status")}
            record(config, service, action=result.verdict, moves=moves, reason="; ".join(result.reasons), figures=figures,
                   by=by, expect={CHAMPION: seen}, extra=extra)
    result.seconds = round(time.perf_counter() - began, 2)
    return result


def _live_scores(config: Config, service: str, champion: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame | None, str]:
    """The live loop's paired scores of ``champion`` and a shadow challenger in ``[start, end)``.

    Returns the pairs (``None`` when there are none) and, when the alert state could not be
    read, why: the comparison then rests on the replay alone and the verdict says so.
    """
    if not alert_state_exists(config):
        return None, ""  # the live loop never ran here
    try:
        with open_alert_state(config) as state:
            scores = state.window_scores(service, start, end)
    except StoreError as exc:
        return None, f"the live loop's shadow scores could not be read ({exc}); the comparison rests on the replay alone"
    return live_pairs(scores, champion), ""


def _too_short(config: Config, windows: pd.DataFrame, at: pd.Timestamp) -> str | None:
    """Why the history is too short to replay the challenger before the compared span (``None``: it is not)."""
    start, _ = compared_span(config, windows, at)
    need = start - pd.Timedelta(config.model.min_train)
    if windows.index[0] <= need:
        return None
    return (
        f"not enough evidence: the comparison replays the last {config.lifecycle.compare_span} with a challenger trained on at least "
        f"{config.model.min_train} before it, and the data start {windows.index[0]:%Y-%m-%d %H:%M}; the champion stays"
    )
