"""The 07 notebook's and the lifecycle benchmark's workflow: replay the model lifecycle day by day.

Over the last ``weeks`` of the source's data, each service starts with a first champion
trained on what came before; then at the end of every day the real ``workbench retrain
--when-due`` runs as of that moment (a drift check, and a retrain with its paired
comparison when the policy says one is due), and the next day is scored by whichever
model is champion then, as the live loop would. Everything is written into a **temporary**
models folder: the project's own models, aliases and history are never read or written.

The day-ahead scores become the hybrid's alerts (the same rules, routing and planned
events as the evaluation), so policies can be compared on false positives, missed
incidents and time to detect, before and after a date (the sample's migration).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field

import pandas as pd
from joblib import Parallel, delayed

from workbench.config import Config
from workbench.detect.rules import RuleSet
from workbench.errors import DataError
from workbench.evaluate.events import event_metrics
from workbench.evaluate.replay import hybrid_alerts
from workbench.features.context import context_flags
from workbench.features.service import FEATURE_CONTEXT
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.lifecycle.aliases import history, load_champion
from workbench.lifecycle.schedule import POLICIES
from workbench.lifecycle.training import score_windows
from workbench.present.headline import Measure, scope_words
from workbench.present.words import share
from workbench.sources import load_service
from workbench.sources.scenarios import sample_changes
from workbench.workflows.drift import drift_table
from workbench.workflows.lifecycle_words import (
    answer_sentence,
    drift_words,
    policy_words,
    trigger_words,
    verdict_words,
    why_words,
)
from workbench.workflows.retrain import RetrainResult, retrain_service

__all__ = ["LifecycleReplay", "replay_lifecycle"]

CONTEXT = FEATURE_CONTEXT
#: The sample's change factors (workbench.sources.scenarios.sample_changes) under plain headings.
_CHANGE_WORDS = {"latency": "latency (× before)", "cpu_level": "CPU level (× before)", "cpu_swing": "CPU daily swing (× before)",
                 "memory": "memory (points added)"}  # fmt: skip


def _signed(fraction) -> str:
    """A saving as a signed percentage ("+22 %", "-16 %", "0 %"); "—" when unknown."""
    if fraction is None or not math.isfinite(float(fraction)):
        return "—"
    percent = round(float(fraction) * 100)
    return f"{percent:+d} %" if percent else "0 %"


@dataclass
class LifecycleReplay:
    """What one retraining policy did over ``[start, end)``: decisions, drift checks, day-ahead alerts."""

    config: Config
    policy: str
    start: pd.Timestamp
    end: pd.Timestamp
    results: list[RetrainResult]  # every daily run, all services, in time order
    history: pd.DataFrame  # every alias-history row: service, as_of, action, champion after, reason, figures
    drift: pd.DataFrame  # every drift check (see workbench.workflows.drift.drift_table)
    confidence: pd.DataFrame  # per window (rows) and service (columns): the day's champion's confidence
    alerts: pd.DataFrame  # the hybrid's alerts from the day-ahead scores
    incidents: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Known changes of the infrastructure (``service, at, description``): the sample's migration, if any.
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _acting(self) -> list[str]:
        return sorted({r.service for r in self._latest().values() if (r.drift or {}).get("status") == "act"})

    def answer(self) -> str:
        """The replay in one sentence (see :func:`~workbench.workflows.lifecycle_words.answer_sentence`)."""
        days = (self.end - self.start) / pd.Timedelta(days=1)
        return answer_sentence(self.policy, days, self.results, self.changes, self._acting())

    def headline(self) -> dict:
        """The answer first: the policy, retrains, promotions, drift acting at the end."""
        decided = [r for r in self.results if r.verdict not in ("not_due", "first")]
        return {
            "answer": self.answer(),
            "policy": policy_words(self.policy),
            "retrains": len(decided),
            "promoted": sum(r.verdict == "promote" for r in decided),
            "kept (challenger not better)": sum(r.verdict == "keep" for r in decided),
            "not enough evidence": sum(r.verdict == "not_enough_evidence" for r in decided),
            "drift acting at the end": ", ".join(self._acting()) or "none",
        }

    def scope(self) -> str:
        """Which services and days the replay covers, in words."""
        return scope_words(list(self.confidence.columns), self.start, self.end - pd.Timedelta("1ns"))

    def measures(self) -> list[Measure]:
        """Figures to follow from run to run: the false-alarm share and missed incidents under the policy."""
        row = self.outcomes().iloc[0]
        # Without labelled incidents every alert counts as false: no share to follow.
        fp_share = float(row["false-positive share"]) if len(self.incidents) else float("nan")
        return [
            Measure("false-alarm share under the policy", fp_share, better="lower", percent=True),
            Measure("missed incidents under the policy", int(row["missed"]), better="lower"),
        ]

    def per_service(self) -> pd.DataFrame:
        """Per service: its champion and since when, the last decision and why in words, drift now."""
        rows = []
        latest = self._latest()
        for service in self.confidence.columns:
            mine = self.history[self.history["service"] == service]
            moved = mine[mine["champion now"] != ""]
            since = pd.Timestamp(moved["as of"].iloc[-1], tz="UTC") if len(moved) else self.start
            decided = [r for r in self.results if r.service == service and r.verdict != "not_due"]
            last = decided[-1] if decided else None
            drift = (latest[service].drift or {}) if service in latest else {}
            rows.append({
                "service": service,
                "champion": moved["champion now"].iloc[-1] if len(moved) else "—",
                "champion for (days)": round((self.end - since) / pd.Timedelta(days=1), 1),
                "last decision": verdict_words(last.verdict) if last else "—",
                "why": why_words(last.verdict, last.figures, self.config.lifecycle, last.reasons) if last else "—",
                "drift now": drift_words(drift.get("status")),
            })
        return pd.DataFrame(rows)

    def comparisons(self) -> pd.DataFrame:
        """Every champion-vs-challenger comparison: costs, improvement with its 90 % interval and lower bound."""
        rows = []
        for r in self.results:
            f = r.figures
            if not f:
                continue
            low, high = f.get("interval_90") or (None, None)
            rows.append({
                "service": r.service,
                "as of": r.as_of[:10],
                "verdict": r.verdict.replace("_", " "),
                "champion cost": f["champion"]["cost"],
                "challenger cost": f["challenger"]["cost"],
                "improvement": f.get("improvement"),
                "90 % interval from": low,
                "90 % interval to": high,
                "95 % lower bound": f.get("lower_bound"),
                "incidents in span": f.get("incidents"),
                "earlier incidents checked": len(f.get("earlier_incidents", [])),
            })
        columns = ["service", "as of", "verdict", "champion cost", "challenger cost", "improvement", "90 % interval from",
                   "90 % interval to", "95 % lower bound", "incidents in span", "earlier incidents checked"]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def _latest(self) -> dict[str, RetrainResult]:
        return {r.service: r for r in self.results}

    def comparison_table(self) -> pd.DataFrame:
        """:meth:`comparisons` for a reader: decisions in words, shares as signed percentages, "—" where unknown."""
        c = self.comparisons()
        low, high = c["90 % interval from"].map(_signed), c["90 % interval to"].map(_signed)
        return pd.DataFrame({
            "service": c["service"],
            "day": pd.to_datetime(c["as of"]),
            "decision": c["verdict"].map(lambda v: verdict_words(v.replace(" ", "_"))),
            "champion cost": c["champion cost"],
            "challenger cost": c["challenger cost"],
            "challenger cheaper by": c["improvement"].map(_signed),
            "90 % interval": [f"{a} to {b}" if a != "—" and b != "—" else "unknown (too few days)" for a, b in zip(low, high)],
            "at least (95 % sure)": c["95 % lower bound"].map(_signed).replace("—", "unknown"),
            "incidents compared": [f"{n} + {e} earlier" if e else f"{n}" for n, e in zip(c["incidents in span"], c["earlier incidents checked"])],
        })

    def decisions(self) -> pd.DataFrame:
        """Every retrain decision (no "not due" days) in words: service, day, trigger, decision, saving, why."""
        rows = [
            {
                "service": r.service,
                "day": pd.Timestamp(r.as_of),
                "trigger": trigger_words(r.trigger),
                "decision": verdict_words(r.verdict),
                "challenger cheaper by": _signed(r.figures.get("improvement")),
                "why": why_words(r.verdict, r.figures, self.config.lifecycle, r.reasons),
            }
            for r in self.results
            if r.verdict != "not_due"
        ]
        return pd.DataFrame(rows, columns=["service", "day", "trigger", "decision", "challenger cheaper by", "why"])

    def changes_table(self) -> pd.DataFrame:
        """The known infrastructure changes, their factors in words (empty without any)."""
        c = self.changes
        out = pd.DataFrame({"service": c["service"], "when": c["at"], "what": c["description"]})
        for column, name in _CHANGE_WORDS.items():
            if column in c:
                out[name] = c[column].astype(float).round(2)
        return out.reset_index(drop=True)

    def outcome_table(self, split: pd.Timestamp | None = None, services: list[str] | None = None) -> pd.DataFrame:
        """:meth:`outcomes` for a reader: the policy in words, the false-alarm share as a percentage."""
        o = self.outcomes(split, services)
        out = pd.DataFrame({"policy": o["policy"].map(lambda p: f"retrain {policy_words(p)}")})
        if split is not None:
            out["period"] = o["period"]
        return out.assign(**{
            "alerts": o["alerts"],
            "false alarms": o["false alerts"],
            "false-alarm share": o["false-positive share"].map(share) if len(self.incidents) else "no labelled incidents",
            "incidents": o["incidents"],
            "missed": o["missed"],
            "median time to detect (min)": o["median time to detect (min)"],
        })

    def outcomes(self, split: pd.Timestamp | None = None, services: list[str] | None = None) -> pd.DataFrame:
        """False positives, missed incidents and time to detect, over the whole span or before/after ``split``."""
        chosen = services or list(self.confidence.columns)
        alerts = self.alerts[self.alerts["service"].isin(chosen)]
        incidents = self.incidents[self.incidents["service"].isin(chosen)]
        spans = {"all": (self.start, self.end)} if split is None else {"before": (self.start, split), "after": (split, self.end)}
        rows = []
        for name, (lo, hi) in spans.items():
            m = event_metrics(alerts, incidents, lo, hi, window=self.config.window)
            rows.append({
                "policy": self.policy,
                "period": name,
                "alerts": m["alerts"],
                "false alerts": m["false_alerts"],
                "false-positive share": m["fp_share"],
                "incidents": m["incidents"],
                "missed": len(m["missed_incidents"]),
                "median time to detect (min)": m["ttd_median_minutes"],
            })
        return pd.DataFrame(rows)


def replay_lifecycle(
    config: Config,
    policy: str | None = None,
    weeks: int = 4,
    source: str | None = None,
    services: list[str] | None = None,
    jobs: int = 1,
) -> LifecycleReplay:
    """Replay ``policy`` (default ``lifecycle.policy``) over the last ``weeks`` of data (see the module notes).

    With less history, the replay starts once ``model.min_train`` of data exist (the headline
    says from when).

    Raises
    ------
    DataError
        Too little history before the replay for a first champion (``model.min_train``).
    """
    policy = policy or config.lifecycle.policy
    if policy not in POLICIES:
        raise DataError(f"unknown retraining policy {policy!r}; one of {', '.join(POLICIES)}")
    chosen = [config.check_service(s) for s in services or list(config.services)]
    with tempfile.TemporaryDirectory(prefix="wb-lifecycle-") as folder:
        paths = config.paths.model_copy(update={"models": folder})
        scratch = config.model_copy(update={"paths": paths, "lifecycle": config.lifecycle.model_copy(update={"policy": policy})})
        done = Parallel(n_jobs=min(jobs, len(chosen)))(delayed(_replay_service)(scratch, s, weeks, source) for s in chosen)
        rows = [{"service": s, **row} for s in chosen for row in history(scratch, s)]
        drift = drift_table(scratch, chosen)
    results = sorted((r for _, rs, _ in done for r in rs), key=lambda r: (r.as_of, r.service))
    confidence = pd.concat({s: conf for s, (_, _, conf) in zip(chosen, done)}, axis=1)
    alerts = pd.concat([a for a, _, _ in done], ignore_index=True)
    start, end = confidence.index[0], confidence.index[-1] + pd.Timedelta(config.window)
    incidents = read_incidents(config.path("incidents"), list(config.services))
    table = pd.DataFrame([_history_row(r) for r in rows])
    changes = pd.DataFrame(columns=["service", "at", "description"])
    if (source or config.source.kind) == "sample":
        changes = sample_changes(config.source.sample, list(config.services))
        changes = changes[changes["service"].isin(chosen)]
    mine = incidents[incidents["service"].isin(chosen)]
    return LifecycleReplay(config, policy, start, end, results, table, drift, confidence, alerts, mine, changes)


def _history_row(row: dict) -> dict:
    champion = row["moves"].get("champion", {}).get("to") if "champion" in row["moves"] else None
    return {
        "service": row["service"],
        "as of": str(row.get("as_of", row["at"]))[:16],
        "action": row["action"].replace("_", " "),
        "champion now": champion or "",
        "by": row.get("by", ""),
        "reason": row.get("reason", ""),
        "improvement": row.get("figures", {}).get("improvement"),
    }


def _replay_service(config: Config, service: str, weeks: int, source: str | None) -> tuple[pd.DataFrame, list[RetrainResult], pd.Series]:
    samples = load_service(config, service, source=source)
    windows = to_windows(samples, config.window, config.max_fill)
    width = pd.Timedelta(config.window)
    end = (windows.index[-1] + width).floor("1D")
    start = max(end - pd.Timedelta(weeks=weeks), (windows.index[0] + pd.Timedelta(config.model.min_train)).ceil("1D"))
    if end - start < pd.Timedelta(days=7):
        raise DataError(f"{service}: a lifecycle replay needs a week after {config.model.min_train} of history; the data span {windows.index[0]:%Y-%m-%d} to {end:%Y-%m-%d}")
    events = read_events(config.path("events"))
    events = events[events["service"].isin([service, "*"])]
    by = f"replay {config.lifecycle.policy}"
    results, parts = [], []
    for day in pd.date_range(start, end - pd.Timedelta("1D"), freq="1D"):
        results.append(retrain_service(config, service, day, when_due=True, by=by, data=(samples, windows)))
        champion = load_champion(config, service)[0]
        today = windows[(windows.index >= day - CONTEXT) & (windows.index < day + pd.Timedelta("1D"))]
        parts.append(score_windows(champion, today, events)["confidence"].loc[day:])
    confidence = pd.concat(parts)
    confidence = confidence[~confidence.index.duplicated()]
    span = windows.index[(windows.index >= start) & (windows.index < end)]
    confidence = confidence.reindex(span)
    critical = RuleSet.from_config(config.rules.critical).fit().verdicts(samples, config.window)
    flags = context_flags(span, events, config.window)
    planned = (flags["campaign"] == 1) | (flags["maintenance"] == 1)
    return hybrid_alerts(service, confidence, critical, planned, config), results, confidence.rename(service)
