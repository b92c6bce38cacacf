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
from workbench.present.headline import Measure, scope_words
from workbench.present.words import count, rarity
from workbench.settings import SinkSettings
from workbench.sources import load_metrics, load_service
from workbench.workflows.score import ScoreResult, score

__all__ = ["LiveReplay", "live_answer", "replay_live"]

_PAGES = (AlertAction.PAGE, AlertAction.PAGE_WITH_CONTEXT)
#: An episode's action and source, and an outbox state, in a reader's words.
_ACTION_WORDS = {AlertAction.PAGE: "page", AlertAction.PAGE_WITH_CONTEXT: "page, with the model's context", AlertAction.INVESTIGATE: "investigation"}
_SOURCE_WORDS = {AlertSource.RULE: "rules", AlertSource.MODEL: "model", AlertSource.BOTH: "rules and model"}
_STATE_WORDS = {"delivered": "delivered", "pending": "waiting for a retry", "dead": "dead letter (refused)", "skipped": "skipped (resolved first)"}


def _pages(episodes: pd.DataFrame) -> int:
    return int(episodes["action"].isin(_PAGES).sum()) if len(episodes) else 0


def _states(outbox: pd.DataFrame) -> dict[str, int]:
    """Alert events per outbox state (delivered, pending, dead, skipped)."""
    return {k: int(v) for k, v in outbox["state"].value_counts().items()} if len(outbox) else {}


def _days(start: pd.Timestamp, end: pd.Timestamp) -> float:
    return (end - start) / pd.Timedelta(days=1)


def live_answer(days: float, episodes: pd.DataFrame, outbox: pd.DataFrame) -> str:
    """06's answer in one plain sentence, from the replay's episodes and outbox.

    E.g. "Over the last 7 days the live loop opened 2 episodes, all on checkout: 1 page and
    1 investigation; all 5 alert events were delivered."

    Parameters
    ----------
    days
        How many days were replayed.
    episodes
        One row per episode, with ``service`` and ``action``.
    outbox
        One row per alert event, with ``state`` (delivered, pending, dead, skipped).
    """
    span = "the last day" if days == 1 else f"the last {days:g} days"
    if len(episodes) == 0:
        what = "opened no episodes"
    else:
        per = episodes["service"].value_counts(sort=True)
        if len(per) == 1:
            where = f", all on {per.index[0]}" if len(episodes) > 1 else f", on {per.index[0]}"
        else:
            where = " (" + ", ".join(f"{s} {n}" for s, n in per.items()) + ")"
        pages = _pages(episodes)
        what = f"opened {count(len(episodes), 'episode')}{where}: {count(pages, 'page')} and {count(len(episodes) - pages, 'investigation')}"
    states = _states(outbox)
    total, delivered = len(outbox), states.get("delivered", 0)
    if total == 0:
        delivery = "no alert events were sent"
    elif delivered == total:
        delivery = "the 1 alert event was delivered" if total == 1 else f"all {total} alert events were delivered"
    else:
        rest = [f"{states[k]} {w}" for k, w in (("pending", "waiting for a retry"), ("dead", "refused by the receiver"), ("skipped", "skipped")) if states.get(k)]
        delivery = f"{delivered} of {total} alert events were delivered ({', '.join(rest)})"
    return f"Over {span} the live loop {what}; {delivery}."


def _model_words(services) -> str:
    """Which services ran on the rules alone, and why, in words."""
    missing = [c.service for c in services if c.degraded and "no saved model" in c.model]
    no_data = [c.service for c in services if c.degraded and c.model.startswith("no data")]
    failed = [c.service for c in services if c.degraded and c.service not in missing + no_data]
    parts = []
    if missing:
        parts.append(f"no model yet for {', '.join(missing)} (rules only)")
    if failed:
        parts.append(f"the model could not be used for {', '.join(failed)} (rules only)")
    if no_data:
        parts.append(f"no data for {', '.join(no_data)}")
    return "; ".join(parts) or "every service's model"


def _advice_words(episode: dict) -> str:
    """The step an episode's page suggested and its citations, or why there was none."""
    if episode.get("suggestion"):
        return f"{episode['suggestion']} ({episode['citations']})"
    return "none: nothing similar before" if str(episode.get("similar_incidents") or "").startswith("no similar") else "—"


def _unusual(confidence: float, words) -> str:
    """How unusual an episode was in words; from its confidence for rows saved before the words."""
    if pd.isna(confidence):
        return "rule only"
    return words if isinstance(words, str) and words else rarity(confidence)


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

    def answer(self) -> str:
        """The replay in one sentence (see :func:`live_answer`)."""
        return live_answer(_days(self.start, self.end), self.episodes, self.outbox)

    def headline(self) -> dict:
        """The answer first: pages, investigations, how many only the model saw, delivery health, which models ran."""
        ep = self.episodes
        pages, states = _pages(ep), _states(self.outbox)
        model_only = int((ep["source"] == AlertSource.MODEL).sum()) if len(ep) else 0
        return {
            "answer": self.answer(),
            "episodes": int(len(ep)),
            "pages": pages,
            "investigations": int(len(ep)) - pages,
            "model only": model_only,
            "events delivered": states.get("delivered", 0),
            "waiting or dead": states.get("pending", 0) + states.get("dead", 0),
            "model": _model_words(self.result.services),
        }

    def scope(self) -> str:
        """Which services and days the replay covers, in words."""
        return scope_words(self.config.services, self.start, self.end)

    def measures(self) -> list[Measure]:
        """Figures to follow from run to run: pages per week, events not delivered."""
        pages, states = _pages(self.episodes), _states(self.outbox)
        return [
            Measure("pages per week", round(pages / _days(self.start, self.end) * 7, 1), better="lower"),
            Measure("alert events not delivered", states.get("pending", 0) + states.get("dead", 0), better="lower"),
        ]

    def per_service(self) -> pd.DataFrame:
        """Per service: episodes, pages, investigations, model-only, median minutes open (NaN: none closed)."""
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
                    "median time open (min)": float(round(minutes)) if minutes == minutes else float("nan"),
                }
            )
        return pd.DataFrame(rows)

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
        """Every episode in words: when, what it asked, who raised it, how unusual, the rules, top
        features, and the step its page suggested with the incidents it came from.

        "how unusual" is the episode's most abnormal model window as rarely as a normal week
        shows one ("once in 22 normal weeks", "once in 10^9 ..." where the confidence reads
        100); from the confidence (:func:`~workbench.present.words.rarity`) for episodes saved
        before the tail was kept; an episode without a model verdict says "rule only".
        """
        ep = self.episodes.sort_values("opened")
        confidence = pd.to_numeric(ep["confidence"], errors="coerce")
        return pd.DataFrame(
            {
                "service": ep["service"],
                "opened": ep["opened"],
                "resolved": [t if pd.notna(t) else "still open" for t in ep["resolved"]],
                "alert": ep["action"].map(lambda a: _ACTION_WORDS.get(a, str(a).replace("_", " "))),
                "raised by": ep["source"].map(lambda s: _SOURCE_WORDS.get(s, str(s))),
                "how unusual": [_unusual(c, u) for c, u in zip(confidence, ep["unusual"], strict=True)],
                "rules": [r if isinstance(r, str) and r else "—" for r in ep["rules"]],
                "top features": [f if isinstance(f, str) and f else "—" for f in ep["top_features"]],
                "suggested step (as in)": [_advice_words(r) for r in ep.to_dict("records")],
            }
        ).reset_index(drop=True)

    def delivery(self) -> pd.DataFrame:
        """The outbox per sink and state in words (a healthy run has everything delivered); empty when nothing was sent."""
        if self.outbox.empty:
            return pd.DataFrame(columns=["sink", "state", "events"])
        out = self.outbox.groupby(["sink", "state"]).size().rename("events").reset_index()
        return out.assign(state=out["state"].map(lambda s: _STATE_WORDS.get(s, s)))


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
