"""The ``pagerduty`` sink: PagerDuty's Events API v2 (``trigger`` and ``resolve``).

Every event of an episode carries the episode's ``dedup_key``, so PagerDuty adds an update
or a repeated trigger to the open incident instead of opening another. PagerDuty's dedup
holds only while the incident is open (a trigger after a resolve opens a new incident),
which is why the outbox never sends a trigger for a resolved episode.

* severity: ``critical`` for a page, ``warning`` for an investigation;
* ``custom_details``: the confidence, how unusual the worst window was ("once in 10^9 normal
  weeks"), the rules that fired, the top features, the model version, the action and
  source, and the runbook advice (the suggested step, the incidents it cites, the similar
  past incidents);
* a client-side rate limit per routing key (``rate`` events per ``per`` seconds, 100 a
  minute by default, under PagerDuty's documented ~120): the sink waits for a free slot
  rather than earning a 429;
* HTTP 429, 5xx, timeouts and refused connections are retryable; another 4xx (a bad
  payload, an unknown routing key) is a dead letter with PagerDuty's reason.

The routing key comes only from ``$WORKBENCH_PAGERDUTY_ROUTING_KEY``; ``url`` (or
``$WORKBENCH_PAGERDUTY_URL``) defaults to PagerDuty's endpoint. Tests use a local receiver
that implements the documented behaviour (:mod:`workbench.testing.pagerduty`).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque

import requests

from workbench.alerting.sinks import check_options, severity
from workbench.alerting.sinks.http import post_json
from workbench.errors import ConfigError

__all__ = ["PagerDutySink", "ROUTING_KEY_ENV", "URL_ENV"]

ROUTING_KEY_ENV = "WORKBENCH_PAGERDUTY_ROUTING_KEY"
URL_ENV = "WORKBENCH_PAGERDUTY_URL"
DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
_OPTIONS = {"url", "rate", "per", "timeout", "source"}


class _Limiter:
    """At most ``rate`` calls per ``per`` seconds (a sliding window); ``wait`` blocks for a slot."""

    def __init__(self, rate: int, per: float, clock=time.monotonic, sleep=time.sleep) -> None:
        self.rate, self.per, self.clock, self.sleep = rate, per, clock, sleep
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            while True:
                now = self.clock()
                while self._times and now - self._times[0] >= self.per:
                    self._times.popleft()
                if len(self._times) < self.rate:
                    self._times.append(now)
                    return
                self.sleep(self.per - (now - self._times[0]) + 1e-3)


class PagerDutySink:
    """Send episodes to PagerDuty (see the module notes)."""

    #: One limiter per routing key, shared by every sink in the process.
    _limiters: dict[tuple[str, int, float], _Limiter] = {}

    def __init__(self, routing_key: str, url: str = DEFAULT_URL, rate: int = 100, per: float = 60.0, timeout: float = 10.0, source: str = "aiops-workbench") -> None:
        if not routing_key:
            raise ConfigError(f"the pagerduty sink needs a routing key in ${ROUTING_KEY_ENV}")
        if not 0 < rate:
            raise ConfigError(f"alerting.sinks: pagerduty rate must be positive, got {rate}")
        self.routing_key, self.url, self.timeout, self.source = routing_key, url, timeout, source
        self.limiter = self._limiters.setdefault((routing_key, rate, per), _Limiter(rate, per))
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"PagerDutySink(url={self.url!r})"  # never the routing key

    @classmethod
    def from_settings(cls, options: dict, config) -> PagerDutySink:
        if "routing_key" in options:
            raise ConfigError(f"alerting.sinks: the routing key does not belong in workbench.yaml; set ${ROUTING_KEY_ENV}")
        check_options("pagerduty", options, _OPTIONS)
        return cls(
            os.environ.get(ROUTING_KEY_ENV, ""),
            options.get("url") or os.environ.get(URL_ENV) or DEFAULT_URL,
            int(options.get("rate", 100)),
            float(options.get("per", 60)),
            float(options.get("timeout", 10)),
            options.get("source", "aiops-workbench"),
        )

    def event(self, p: dict) -> dict:
        """The Events API v2 body for one outbox payload."""
        body = {"routing_key": self.routing_key, "dedup_key": p["dedup_key"]}
        if p["event"] == "resolve":
            return {**body, "event_action": "resolve"}
        return {
            **body,
            "event_action": "trigger",
            "payload": {
                "summary": p["summary"][:1024],
                "source": self.source,
                "severity": severity(p["action"]),
                "timestamp": p["opened"],
                "component": p["service"],
                "class": p["action"],
                "custom_details": {
                    "confidence": p["confidence"],
                    "how unusual": p.get("unusual", ""),
                    "rules fired": p["rules"],
                    "top features": p["top_features"],
                    "model version": p["model_version"],
                    "action": p["action"],
                    "source": p["source"],
                    "suggested step": p.get("suggestion", ""),
                    "cited incidents": p.get("citations", ""),
                    "similar past incidents": p.get("similar_incidents", ""),
                },
            },
        }

    def send(self, row: dict) -> None:
        self.limiter.wait()
        post_json(self._session, self.url, self.event(row["payload"]), self.timeout, "PagerDuty")
