"""``workbench score``'s workflow: the live loop, one cycle per run (cron or a timer, every window).

For each service, every complete window since the last one scored (a missed run catches
up; a rerun is a no-op), from the configured source:

1. the service's champion model (its checksum verified before it is loaded) scores the windows;
   if it is missing, damaged or fails, the cycle goes on without it (**the rules still
   page**) and the result says the model was skipped (degraded); a challenger, when the
   service has one, scores the same windows in the shadow (it never pages), and both scores
   are kept per window for ``workbench retrain``'s paired comparison on live windows (the
   last :data:`SCORE_RETENTION` of them);
2. the critical rules fire on the raw samples;
3. the hybrid policy and persistence turn both into per-window verdicts, and each verdict
   advances the service's episode (:mod:`workbench.alerting.episodes`), with SHAP's top
   three features for a model alert and, when an episode opens or escalates, the step that
   resolved the most similar past labelled incidents, citing them
   (:mod:`workbench.workflows.advice`; ``alerting.suggest``);
4. each window's episode change, its events and the "scored up to here" mark are written in
   one transaction (:mod:`workbench.alerting.state`), then the outbox is drained into the
   sinks (:mod:`workbench.alerting.delivery`).

``start``/``end`` replay the loop window by window over a past range, as if each window
had just closed (delivery included, with simulated time and no real waits). ``dry_run``
computes everything and writes nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field

import pandas as pd

from workbench._util import parse_time
from workbench.alerting.delivery import DeliveryReport, deliver
from workbench.alerting.episodes import Event, advance, payload
from workbench.alerting.policy import window_verdicts
from workbench.alerting.postprocess import causal_persistence
from workbench.alerting.sinks import open_sinks
from workbench.alerting.state import AlertState, open_alert_state
from workbench.config import Config
from workbench.contracts import RuleOp
from workbench.detect.base import model_verdicts
from workbench.detect.explain import Explainer, format_top
from workbench.detect.rules import RuleSet
from workbench.errors import DataError, DeliveryError, ParameterError, WorkbenchError
from workbench.features.context import context_flags
from workbench.features.service import FEATURE_CONTEXT
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events
from workbench.lifecycle.aliases import CHALLENGER, aliases, load_alias, load_champion
from workbench.lifecycle.training import model_matrix, score_windows
from workbench.present.words import rarity_of_tail
from workbench.sources import load_service
from workbench.workflows.advice import Advisor

__all__ = ["CycleResult", "ScoreResult", "score"]

#: History loaded before the first window to score: the model's trend and sustained features
#: look back a few hours; a ``drop_pct`` rule compares with the same minute a week earlier.
CONTEXT = FEATURE_CONTEXT  # at least routing.min_windows too (see _cycle)
WEEK = pd.Timedelta(days=7)
#: Per-window scores older than this are dropped (a retrain compares at most ``lifecycle.compare_span``).
SCORE_RETENTION = pd.Timedelta(days=90)
_COUNTERS = {"trigger": "opened", "update": "updated", "resolve": "resolved"}


@dataclass
class CycleResult:
    """One service's part of a run."""

    service: str
    windows: int = 0
    first: str | None = None
    last: str | None = None
    model: str = "ok"
    model_version: str = ""
    #: The challenger that shadow-scored the same windows ("" = none) and how that went.
    challenger: str = ""
    shadow: str = ""
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    events: int = 0
    #: Why an episode's page went without runbook advice this run ("" = none was missing).
    advice: str = ""

    @property
    def degraded(self) -> bool:
        return self.model != "ok"


@dataclass
class ScoreResult:
    """What a run did: per service, and what delivery achieved."""

    at: str
    dry_run: bool
    services: list[CycleResult] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    #: Sinks that could not re-assert the open episodes this run, with the reason.
    refresh_errors: dict[str, str] = field(default_factory=dict)

    @property
    def degraded(self) -> bool:
        return any(c.degraded for c in self.services)

    def as_dict(self) -> dict:
        return {
            "at": self.at,
            "dry_run": self.dry_run,
            "degraded": self.degraded,
            "services": [asdict(c) for c in self.services],
            "delivery": self.delivery.as_dict(),
            "refresh_errors": self.refresh_errors,
        }


def _targets(state: AlertState, service: str, width: pd.Timedelta, now: pd.Timestamp, start, end) -> pd.DatetimeIndex:
    """Window starts to score for ``service``: complete, not scored yet."""
    last = state.last_scored(service)
    if start is not None:
        first = start.ceil(width)
        stop = end.floor(width)  # windows must have closed by ``end``
    else:
        if last is not None and now < last + width:
            raise ParameterError(
                f"{service}: the last scored window ({last}) ends after {now}: the clock went backwards "
                "or --at is before the last run; nothing was scored"
            )
        stop = now.floor(width)
        # The first run scores the newest complete window; later runs catch up from the last one.
        first = stop - width if last is None else last + width
    if last is not None:
        first = max(first, last + width)
    return pd.date_range(first, stop - width, freq=width) if first <= stop - width else pd.DatetimeIndex([], tz="UTC")


def _cycle(config: Config, state: AlertState, sinks: dict, service: str, targets: pd.DatetimeIndex, source, dry_run: bool, replay: bool, now, budget: float, report: DeliveryReport, shared: dict) -> CycleResult:
    width = pd.Timedelta(config.window)
    result = CycleResult(service, len(targets), str(targets[0]), str(targets[-1]))
    weekly = any(rule.op == RuleOp.DROP_PCT for rule in config.rules.critical)
    context = max(CONTEXT, config.routing.min_windows * width) + (WEEK if weekly else pd.Timedelta(0))
    samples = load_service(config, service, source=source, start=targets[0] - context, end=targets[-1] + width)
    windows = to_windows(samples, config.window, config.max_fill)
    events_calendar = shared["events"][shared["events"]["service"].isin([service, "*"])]
    sources = [shared["rules"].verdicts(samples, config.window)]
    model = None
    tail = None  # the champion's log10 tail probability per window
    scores: dict[str, tuple[str, pd.Series]] = {}  # role: (version, confidence), stored per window
    try:
        model, meta = load_champion(config, service)
        result.model_version = meta["version"]
        scored = score_windows(model, windows, events_calendar)
        confidence, tail = scored["confidence"], scored["raw"]
        sources.append(model_verdicts(confidence, config.window, config.routing.investigate_confidence))
        scores["champion"] = (meta["version"], confidence.reindex(targets))
    except WorkbenchError as exc:
        # Never silence: without the model the rules still page, and the run says so.
        model = None
        result.model = f"skipped: {exc}"
    shadow = _shadow(config, service, windows, events_calendar, result)
    if shadow is not None:
        version, conf, trained_to = shadow
        # Only windows after its training data count as evidence: a replay of past windows
        # must not let a challenger "predict" what it trained on.
        scores["challenger"] = (version, conf.reindex(targets[targets >= trained_to]))
    flags = context_flags(windows.index, events_calendar, config.window)
    planned = (flags["campaign"] == 1) | (flags["maintenance"] == 1)
    # Causal persistence: a window's verdict may not depend on windows after it, or the
    # same window would be judged differently in a replay and in the live loop.
    verdicts = causal_persistence(
        window_verdicts(windows.index, config.window, sources, planned), config.routing.min_windows, config.routing.alone_confidence
    )
    if model is None:
        verdicts["confidence"] = float("nan")  # no model verdict: those windows are unknown, not normal
    verdicts = verdicts.reindex(targets)  # a window with no samples at all has no verdict
    # The rules saw samples in it (a gap window between samples is in the index, all NaN).
    verdicts["checked"] = windows.reindex(targets).notna().any(axis=1)
    verdicts["rules"] = verdicts["rules"].fillna("")
    verdicts["model"] = verdicts["model"].astype("boolean").fillna(False).astype(bool)
    # The tail ranks windows beyond a confidence of 100; in words only where the model flagged.
    verdicts["tail"] = tail.reindex(targets) if model is not None and tail is not None else float("nan")
    verdicts["unusual"] = [
        rarity_of_tail(t, model.detector.confidence_period) if flagged else ""
        for t, flagged in zip(verdicts["tail"], verdicts["model"], strict=True)
    ]
    rows = verdicts[["model", "confidence", "rules", "checked", "tail", "unusual"]].to_dict("index")
    explainer: dict = {}

    def explain(window: pd.Timestamp) -> str:
        context = windows.loc[window - FEATURE_CONTEXT : window]
        X = model_matrix(model.features.transform(context, events=events_calendar)).loc[[window]]
        if "e" not in explainer:
            explainer["e"] = Explainer(model.detector, list(X.columns))
        return format_top(explainer["e"].top(X, 3)[0], when=window)

    advisor = shared["advisor"]

    def advise(episode: dict, end: pd.Timestamp) -> dict:
        fields = advisor(episode, end)
        if advisor.problem:
            result.advice = f"skipped: {advisor.problem}"
        return fields

    episode = state.open_episode(service)
    names = list(sinks)
    unsaved = None  # the newest scored window not yet marked (no change to commit with it)
    unstored: list[pd.Timestamp] = []  # scored windows whose scores go in with the next mark

    def mark(window: pd.Timestamp) -> None:
        # The scores go in the same transaction as the "scored up to here" mark: a killed
        # run leaves neither, and the rerun scores those windows again.
        state.save_scores(
            service, [(w, role, version, conf[w]) for w in unstored for role, (version, conf) in scores.items() if w in conf.index]
        )
        unstored.clear()
        state.set_scored(service, window)

    for window in targets:
        episode, events, changed = advance(
            episode, service, window, width, rows[window], config.alerting.resolve_after,
            result.model_version, explain if model is not None else None, advise if advisor is not None else None,
        )
        unstored.append(window)
        if changed is None:
            unsaved = window
            continue
        with state.transaction():
            state.save_episode(changed)
            for event in events:
                state.enqueue(names, changed["key"], event.kind, payload(event), window + width)
            mark(window)
        unsaved = None
        for event in events:
            result.events += 1
            counter = _COUNTERS[event.kind]
            setattr(result, counter, getattr(result, counter) + 1)
        if events and not dry_run:
            _drain(state, sinks, config, window + width if replay else now, 0 if replay else budget, report)
    if unsaved is not None:
        with state.transaction():
            mark(unsaved)
    return result


def _shadow(config: Config, service: str, windows: pd.DataFrame, events: pd.DataFrame, result: CycleResult) -> tuple[str, pd.Series, pd.Timestamp] | None:
    """The challenger's version, confidence on the same windows (a shadow score: it never
    pages) and end of training, or ``None``.

    A challenger that cannot be loaded or scored costs nothing but its evidence: the cycle
    goes on and the result says why (the champion's alerts are not degraded by it).
    """
    try:
        version = aliases(config, service).get(CHALLENGER)
        if not version:
            return None
        result.challenger = version
        model, _ = load_alias(config, service, CHALLENGER)
        confidence = score_windows(model, windows, events)["confidence"]
    except WorkbenchError as exc:
        result.shadow = f"skipped: {exc}"
        return None
    result.shadow = "ok"
    return version, confidence, model.trained_to


def _drain(state: AlertState, sinks: dict, config: Config, now: pd.Timestamp, budget: float, report: DeliveryReport) -> None:
    drained = deliver(state, sinks, config.alerting, now, budget=budget)
    for kind, counts in drained.as_dict().items():
        for sink, n in counts.items():
            report.add(kind, sink, n)


def _refresh(state: AlertState, sinks: dict, result: ScoreResult) -> None:
    """Re-assert the open episodes to sinks that expire alerts on their own (Alertmanager)."""
    refreshing = {name: sink for name, sink in sinks.items() if hasattr(sink, "refresh")}
    if not refreshing:
        return
    open_now = state.episodes("open")
    payloads = [payload(Event("update", row, row["last_alert"])) for row in open_now.to_dict("records")]
    for name, sink in refreshing.items():
        try:
            sink.refresh(payloads)
        except DeliveryError as exc:
            # Best effort: the lease covers a few missed refreshes; the run says so.
            result.refresh_errors[name] = exc.reason


class _DryRun(Exception):
    """Raised to roll back everything a dry run wrote."""


def score(
    config: Config,
    services: list[str] | None = None,
    at=None,
    start=None,
    end=None,
    dry_run: bool = False,
    source: str | None = None,
    budget: float = 20.0,
) -> ScoreResult:
    """One run of the live loop (or a replay over ``[start, end)``); see the module notes.

    Raises
    ------
    ParameterError
        ``start`` without ``end`` (or the reverse), a range that is not forward, or a clock
        (``at`` or now) before the end of the last scored window.
    """
    for service in services or []:
        config.check_service(service)
    now = parse_time(at, "--at") or pd.Timestamp.now(tz="UTC")
    lo, hi = parse_time(start, "--from"), parse_time(end, "--to")
    if (lo is None) != (hi is None):
        raise ParameterError("--from and --to go together: a replay needs both ends")
    if lo is not None and hi <= lo:
        raise ParameterError(f"--to ({hi}) must be after --from ({lo})")
    replay = lo is not None
    result = ScoreResult(at=str(hi if replay else now), dry_run=dry_run)
    sinks = open_sinks(config)
    # Read and built once per run, not once per service.
    shared = {
        "events": read_events(config.path("events")),
        "rules": RuleSet.from_config(config.rules.critical).fit(),
        # Lazy: reads nothing until an episode needs advice.
        "advisor": Advisor(config, source, until=hi if replay else now) if config.alerting.suggest else None,
    }
    width = pd.Timedelta(config.window)
    with open_alert_state(config) as state, state.run_lock():
        # One run at a time: a second (an overlapping cron run) waits, then finds its windows scored.
        try:
            with state.transaction() if dry_run else contextlib.nullcontext():
                # Every service's windows first: a clock behind any of them refuses the run
                # before anything is scored.
                chosen = services or list(config.services)
                planned = {service: _targets(state, service, width, now, lo, hi) for service in chosen}
                # Events earlier runs could not hand over (a crash between commit and
                # delivery, a sink that was down) go out before anything new is made.
                if not dry_run:
                    _drain(state, sinks, config, hi if replay else now, 0 if replay else budget, result.delivery)
                for service in chosen:
                    targets = planned[service]
                    if targets.empty:
                        result.services.append(CycleResult(service))
                        continue
                    try:
                        cycle = _cycle(config, state, sinks, service, targets, source, dry_run, replay, now, budget, result.delivery, shared)
                    except DataError as exc:
                        cycle = CycleResult(service, 0, model=f"no data: {exc}")
                    result.services.append(cycle)
                if not dry_run:
                    # Events a sink could not take during the cycles get another go.
                    _drain(state, sinks, config, hi if replay else now, 0 if replay else budget, result.delivery)
                    _refresh(state, sinks, result)
                    keep = max(SCORE_RETENTION, 2 * pd.Timedelta(config.lifecycle.compare_span))
                    state.forget_scores((hi if replay else now) - keep)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
    return result
