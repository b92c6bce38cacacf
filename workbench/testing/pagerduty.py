"""A local stand-in for PagerDuty's Events API v2 (``POST /v2/enqueue``), for tests.

PagerDuty is SaaS the tests cannot reach, so this receiver implements its documented
behaviour (developer.pagerduty.com, "Events API v2"), no more:

* ``trigger`` with the ``dedup_key`` of an open incident adds to that incident (dedup while
  open); with no open incident for the key it opens a new one, also after a resolve;
* ``resolve`` closes the open incident of its key (no incident: accepted, no effect);
* a body that is not an event (bad JSON, no routing key, unknown action, a trigger without
  ``payload.summary``, ``payload.source`` or a valid ``payload.severity``) gets HTTP 400;
* more than ``rate`` events within ``per`` seconds for one routing key get HTTP 429;
* success is HTTP 202 ``{"status": "success", "dedup_key": ...}``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from workbench.testing.process import HTTPReceiver

__all__ = ["Incident", "LocalPagerDuty"]

SEVERITIES = ("critical", "error", "warning", "info")


@dataclass
class Incident:
    """One incident the receiver opened, with every event that reached it."""

    dedup_key: str
    routing_key: str
    events: list[dict] = field(default_factory=list)
    resolved: bool = False


class LocalPagerDuty(HTTPReceiver):
    """The receiver on 127.0.0.1 (``url`` is its enqueue endpoint).

    Parameters
    ----------
    rate, per
        At most ``rate`` events per ``per`` seconds for one routing key; more get HTTP 429.
    """

    def __init__(self, rate: int = 120, per: float = 60.0) -> None:
        super().__init__()
        self.rate, self.per = rate, per
        self.incidents: list[Incident] = []
        self.responses: list[int] = []
        self._recent: dict[str, deque] = defaultdict(deque)
        self.down = False  # when True, every request gets HTTP 503

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2/enqueue"

    def open_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if not i.resolved]

    def handle(self, body: bytes) -> tuple[int, dict]:
        status, answer = self._answer(body)
        self.responses.append(status)
        return status, answer

    def _answer(self, body: bytes) -> tuple[int, dict]:
        if self.down:
            return 503, {"status": "unavailable"}
        try:
            event = json.loads(body)
        except ValueError:
            return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["body is not JSON"]}
        errors = []
        routing_key = event.get("routing_key") if isinstance(event, dict) else None
        action = event.get("event_action") if isinstance(event, dict) else None
        if not routing_key:
            errors.append("'routing_key' is missing or blank")
        if action not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' must be trigger, acknowledge or resolve")
        if action == "trigger":
            payload = event.get("payload") or {}
            for key in ("summary", "source"):
                if not payload.get(key):
                    errors.append(f"'payload.{key}' is missing or blank")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' must be critical, error, warning or info")
            if len(str(payload.get("summary", ""))) > 1024:
                errors.append("'payload.summary' is longer than 1024 characters")
        if action in ("acknowledge", "resolve") and not event.get("dedup_key"):
            errors.append("'dedup_key' is required to acknowledge or resolve")
        if errors:
            return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        now = time.monotonic()
        recent = self._recent[routing_key]
        while recent and now - recent[0] > self.per:
            recent.popleft()
        if len(recent) >= self.rate:
            return 429, {"status": "throttle event", "message": "Requests for this service are arriving too quickly"}
        recent.append(now)
        key = event.get("dedup_key") or f"generated-{len(self.incidents)}"
        current = next((i for i in self.incidents if i.dedup_key == key and i.routing_key == routing_key and not i.resolved), None)
        if action == "trigger":
            if current is None:
                current = Incident(key, routing_key)
                self.incidents.append(current)
            current.events.append(event)
        elif current is not None:
            current.events.append(event)
            if action == "resolve":
                current.resolved = True
        return 202, {"status": "success", "message": "Event processed", "dedup_key": key}
