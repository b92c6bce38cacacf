"""Drain the outbox into the sinks: at least once, in order per episode, never a late page.

For each sink, pending rows are taken oldest first:

* **order**: an episode's events go out in the order they were made; while one of them
  waits for a retry or lies in the dead letters, its later events wait too (a resolve is
  never sent before its trigger);
* **retries**: a retryable failure (timeout, refused connection, HTTP 429 or 5xx) is tried
  again after ``backoff * 2**attempt`` seconds with full jitter, capped at ``max_backoff``;
  within one call only while ``budget`` seconds last, then the row waits for a later run;
  after ``max_attempts`` it becomes a dead letter;
* **dead letters**: a failure that retrying cannot fix (another 4xx) is kept with the
  receiver's reason; ``workbench alerts retry`` queues them again after a fix;
* **no late pages**: an episode whose trigger and resolve are both still waiting (it came
  and went while the sink could not take it) is marked ``skipped`` with the reason, unless
  ``alerting.late_pages`` is on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from workbench.alerting.state import AlertState
from workbench.errors import DeliveryError
from workbench.settings import AlertingSettings

__all__ = ["DeliveryReport", "deliver"]


@dataclass
class DeliveryReport:
    """What one drain did, per sink."""

    delivered: dict[str, int] = field(default_factory=dict)
    retried: dict[str, int] = field(default_factory=dict)
    dead: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, sink: str, n: int = 1) -> None:
        counts = getattr(self, kind)
        counts[sink] = counts.get(sink, 0) + n

    def as_dict(self) -> dict:
        return {"delivered": self.delivered, "retried": self.retried, "dead": self.dead, "skipped": self.skipped}


def _pages(state: AlertState, sink: str, size: int = 1000):
    """Every pending row of ``sink``, oldest first, a page at a time (a backlog can be large)."""
    after = 0
    while True:
        rows = state.pending(sink, size, after)
        if not rows:
            return
        yield from rows
        after = rows[-1]["id"]


def _delay(settings: AlertingSettings, attempt: int, rng: random.Random) -> float:
    # Full jitter: retries from many episodes (or many scorers) spread out instead of bunching.
    return rng.uniform(0, min(settings.max_backoff, settings.backoff * 2**attempt))


def deliver(
    state: AlertState,
    sinks: dict,
    settings: AlertingSettings,
    now: pd.Timestamp,
    budget: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send every due pending event to its sink; see the module notes for the guarantees.

    Parameters
    ----------
    sinks
        ``name -> sink`` (an object with ``send(row)``; raises :class:`DeliveryError`).
    now
        The current time (simulated in a replay); rows due later are left for later.
    budget
        Seconds this call may spend sleeping between retries (0 in a replay: no real waits).
    """
    rng = rng or random.Random()
    report = DeliveryReport()
    deadline = time.monotonic() + budget
    for name, sink in sinks.items():
        # Only a trigger never handed to the sink can be held back: one that may have
        # reached it (attempted, outcome unknown or a timeout) must be followed by its resolve.
        stale = state.came_and_went(name) if not settings.late_pages else set()
        blocked: set[str] = state.dead_episodes(name)
        for row in _pages(state, name):
            episode = row["episode"]
            if episode in stale:
                with state.transaction():
                    state.finish(row["id"], "skipped", now, row["attempts"], "the episode resolved before its trigger could be delivered (alerting.late_pages is off)")
                report.add("skipped", name)
                continue
            if episode in blocked:
                continue
            if row["next_attempt"] and pd.Timestamp(row["next_attempt"]) > now:
                blocked.add(episode)
                continue
            attempts, maybe_sent = row["attempts"], bool(row["maybe_sent"])
            while True:
                # Recorded before the hand-over: after a crash mid-send, the row shows that the
                # receiver may have it.
                with state.transaction():
                    state.sending(row["id"], attempts + 1)
                try:
                    sink.send(row)
                except DeliveryError as exc:
                    attempts += 1
                    maybe_sent = maybe_sent or exc.reached
                    if not exc.retry or attempts >= settings.max_attempts:
                        with state.transaction():
                            state.finish(row["id"], "dead", now, attempts, exc.reason)
                        report.add("dead", name)
                        blocked.add(episode)
                        break
                    wait = _delay(settings, attempts, rng)
                    report.add("retried", name)
                    if time.monotonic() + wait <= deadline:
                        sleep(wait)
                        continue
                    with state.transaction():
                        state.postpone(row["id"], now + pd.Timedelta(seconds=wait), attempts, exc.reason, maybe_sent)
                    blocked.add(episode)
                    break
                else:
                    with state.transaction():
                        state.finish(row["id"], "delivered", now, attempts + 1)
                    report.add("delivered", name)
                    break
    return report
