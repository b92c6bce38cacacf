"""The 06 notebook's workflow: what the live loop did over a period, found by replaying it.

The replay runs the real loop (:func:`workbench.workflows.score.score`) window by window
over the last ``days`` of data, with the project's newest saved models, into a **temporary**
alert state and file sink: the project's own alert state, outbox and alert files are never
read or written by a report.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.alerting.sinks.file import FileSink
from workbench.alerting.state import AlertState
from workbench.config import Config
from workbench.contracts import AlertAction, AlertSource
from workbench.features.windows import to_windows
from workbench.settings import SinkSettings
from workbench.sources import load_metrics, load_service
from workbench.workflows.score import ScoreResult, score

__all__ = ["LiveReplay", "replay_live"]

_PAGES = (AlertAction.PAGE, AlertAction.PAGE_WITH_CONTEXT)


@dataclass
class LiveReplay:
    """The loop's run over ``[start, end)``: its result, the episodes, the outbox and the events sent."""

    config: Config
    source: str | None
    start: pd.Timestamp
    end: pd.Timestamp
    result: ScoreResult
    episodes: pd.DataFrame
    outbox: pd.DataFrame
    events: list[dict]

    def headline(self) -> dict:
        """The answer first: pages, investigations, how many only the model saw, delivery health."""
        ep = self.episodes
        pages = int(ep["action"].isin(_PAGES).sum()) if len(ep) else 0
        model_only = int((ep["source"] == AlertSource.MODEL).sum()) if len(ep) else 0
        states = self.outbox["state"].value_counts().to_dict() if len(self.outbox) else {}
        skipped = [c.service for c in self.result.services if c.degraded]
        return {
            "from": f"{self.start:%Y-%m-%d %H:%M}",
            "to": f"{self.end:%Y-%m-%d %H:%M}",
            "episodes": int(len(ep)),
            "pages": pages,
            "investigations": int(len(ep)) - pages,
            "model only": model_only,
            "events delivered": int(states.get("delivered", 0)),
            "waiting or dead": int(states.get("pending", 0) + states.get("dead", 0)),
            "model": "skipped for " + ", ".join(skipped) if skipped else "used for every service",
        }

    def per_service(self) -> pd.DataFrame:
        """Per service: episodes, pages, investigations, model-only, median minutes open."""
        rows = []
        for service in self.config.services:
            mine = self.episodes[self.episodes["service"] == service]
            closed = mine.dropna(subset=["resolved"])
            minutes = ((closed["resolved"] - closed["opened"]) / pd.Timedelta("1min")).median() if len(closed) else float("nan")
            rows.append(
                {
                    "service": service,
                    "episodes": len(mine),
                    "pages": int(mine["action"].isin(_PAGES).sum()),
                    "investigations": int((mine["action"] == AlertAction.INVESTIGATE).sum()),
                    "model only": int((mine["source"] == AlertSource.MODEL).sum()),
                    "median minutes open": f"{minutes:.0f}" if minutes == minutes else "-",
                }
            )
        return pd.DataFrame(rows).set_index("service")

    def lanes(self, service: str) -> dict[str, pd.DataFrame]:
        """The service's episodes as bars for :func:`workbench.present.plots.alerts_timeline`."""
        mine = self.episodes[self.episodes["service"] == service]
        bars = mine.assign(start=mine["opened"], end=mine["resolved"].fillna(self.end))
        return {"pages": bars[bars["action"].isin(_PAGES)], "investigations": bars[bars["action"] == AlertAction.INVESTIGATE]}

    def windows(self, service: str) -> pd.DataFrame:
        """The service's windows over the replayed period, for plotting."""
        samples = load_service(self.config, service, source=self.source, start=self.start, end=self.end)
        return to_windows(samples, self.config.window, self.config.max_fill)

    def table(self) -> pd.DataFrame:
        """Every episode: when, how severe, why (rules, confidence, top features)."""
        cols = ["service", "opened", "resolved", "action", "source", "confidence", "rules", "top_features"]
        out = self.episodes[cols].sort_values("opened")
        when = {c: out[c].map(lambda t: "" if t is None or pd.isna(t) else f"{t:%Y-%m-%d %H:%M}") for c in ("opened", "resolved")}
        # Rule-only episodes have no confidence (None); without a model every one is.
        out = out.assign(**when, confidence=pd.to_numeric(out["confidence"], errors="coerce").round(1))
        return out.rename(columns={"top_features": "top features"}).set_index("service")

    def delivery(self) -> pd.DataFrame:
        """The outbox per sink and state (a healthy run has everything delivered)."""
        if self.outbox.empty:
            return pd.DataFrame(columns=["sink", "state", "events"]).set_index("sink")
        return self.outbox.groupby(["sink", "state"]).size().rename("events").reset_index().set_index("sink")


def replay_live(config: Config, days: int = 7, source: str | None = None, services: list[str] | None = None) -> LiveReplay:
    """Replay the live loop over the last ``days`` of the source's data (see the module notes)."""
    frame = load_metrics(config, source=source or None, services=services)
    width = pd.Timedelta(config.window)
    end = frame["timestamp"].max().floor(width)
    start = end - pd.Timedelta(days=days)
    with tempfile.TemporaryDirectory(prefix="wb-live-") as folder:
        state_path = Path(folder) / "state.sqlite"
        events_path = Path(folder) / "events.jsonl"
        alerting = config.alerting.model_copy(update={"state": str(state_path), "sinks": [SinkSettings(kind="file", path=str(events_path))]})
        scratch = config.model_copy(update={"alerting": alerting})
        result = score(scratch, services, start=start, end=end, source=source or None)
        with AlertState(state_path) as state:
            episodes, outbox = state.episodes(), state.outbox()
        events = FileSink(events_path).events()
    return LiveReplay(config, source or None, start, end, result, episodes, outbox, events)
