"""The ``alertmanager`` sink: Alertmanager's API v2 (``POST /api/v2/alerts``) on every peer.

Each episode is one alert whose labels are ``alertname``, ``service``, ``episode`` (the
dedup key), ``severity`` (``critical`` for a page, ``warning`` for an investigation),
``action`` and ``source``; its annotations carry a one-line summary, the confidence, how
rarely a normal week shows a window this unusual (``unusual``: it still ranks pages whose
confidence reads 100), the rules, the SHAP top three in words, the model version, a link,
and the runbook advice: the suggested step with the incidents it came from (``suggestion``)
and the similar past incidents in one line (``similar_incidents``). ``startsAt`` is the
episode's start.

Alertmanager resolves an alert by itself once its ``endsAt`` passes, so a firing episode is
sent with ``endsAt = now + lease`` (four windows by default) and **re-asserted every run**
(:meth:`AlertmanagerSink.refresh`): while the loop keeps running, Alertmanager never resolves a
problem the detector still sees, and a few missed runs are covered by the lease. A resolve
sends ``endsAt = now``. An escalation (``investigate`` to ``page``) changes the label set, so
the sink ends the old alert and fires the new one; both carry the same ``episode`` label.

Settings (``alerting.sinks``): ``peers`` (URLs, or ``$WORKBENCH_ALERTMANAGER_URL``, comma
separated), ``alertname``, ``lease``, ``link`` (a template with ``{service}`` and ``{key}``),
``timeout`` (seconds). A bearer token, if the peers need one, comes only from
``$WORKBENCH_ALERTMANAGER_TOKEN``.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import requests

from workbench.alerting.sinks import check_options, severity
from workbench.alerting.sinks.http import post_json
from workbench.errors import ConfigError

__all__ = ["AlertmanagerSink", "TOKEN_ENV", "URL_ENV"]

URL_ENV = "WORKBENCH_ALERTMANAGER_URL"
TOKEN_ENV = "WORKBENCH_ALERTMANAGER_TOKEN"
_OPTIONS = {"peers", "alertname", "lease", "link", "timeout"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class AlertmanagerSink:
    """Send episodes to Alertmanager (see the module notes).

    Parameters
    ----------
    peers
        Alertmanager base URLs; every event goes to each (Alertmanager's HA advice).
    lease
        How long a firing alert stays firing without being re-asserted.
    """

    def __init__(self, peers: list[str], lease: pd.Timedelta, alertname: str = "AiopsWorkbench", link: str = "", timeout: float = 10.0, token: str | None = None) -> None:
        if not peers:
            raise ConfigError(f"the alertmanager sink needs peers (in alerting.sinks or ${URL_ENV})")
        self.peers = [p.rstrip("/") for p in peers]
        self.lease = pd.Timedelta(lease)
        self.alertname = alertname
        self.link = link
        self.timeout = timeout
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def from_settings(cls, options: dict, config) -> AlertmanagerSink:
        check_options("alertmanager", options, _OPTIONS)
        peers = options.get("peers") or [p for p in os.environ.get(URL_ENV, "").split(",") if p.strip()]
        if isinstance(peers, str):
            peers = [peers]
        for peer in peers:
            if "@" in peer.split("//", 1)[-1].split("/", 1)[0]:
                raise ConfigError(f"alerting.sinks: credentials do not belong in a peer URL; set ${TOKEN_ENV}")
        lease = pd.Timedelta(options.get("lease") or 4 * pd.Timedelta(config.window))
        return cls(peers, lease, options.get("alertname", "AiopsWorkbench"), options.get("link", ""), float(options.get("timeout", 10)), os.environ.get(TOKEN_ENV))

    def _alert(self, p: dict, ends: dt.datetime, action: str | None = None, source: str | None = None) -> dict:
        action = action or p["action"]
        annotations = {
            "summary": p["summary"],
            "confidence": "" if p["confidence"] is None else f"{p['confidence']:.1f}",
            "unusual": p.get("unusual", ""),
            "rules": p["rules"],
            "top_features": p["top_features"],
            "model_version": p["model_version"],
            "suggestion": f"{p['suggestion']} (as in {p['citations']})" if p.get("suggestion") else "",
            "similar_incidents": p.get("similar_incidents", ""),
        }
        if self.link:
            annotations["link"] = self.link.format(service=p["service"], key=p["dedup_key"])
        return {
            "labels": {
                "alertname": self.alertname,
                "service": p["service"],
                "episode": p["dedup_key"],
                "severity": severity(action),
                "action": action,
                "source": source or p["source"],
            },
            "annotations": {k: v for k, v in annotations.items() if v},
            "startsAt": p["opened"],
            "endsAt": ends.isoformat(),
        }

    def _post(self, alerts: list[dict]) -> None:
        for peer in self.peers:
            post_json(self._session, f"{peer}/api/v2/alerts", alerts, self.timeout, f"Alertmanager at {peer}")

    def send(self, row: dict) -> None:
        p = row["payload"]
        now = _now()
        if p["event"] == "resolve":
            self._post([self._alert(p, now)])
            return
        alerts = [self._alert(p, now + self.lease.to_pytimedelta())]
        previous = (p.get("previous_action"), p.get("previous_source"))
        if p["event"] == "update" and previous[0] and previous != (p["action"], p["source"]):
            # The label set changed with the escalation: end the alert that stood for it before.
            alerts.append(self._alert(p, now, *previous))
        self._post(alerts)

    def refresh(self, open_payloads: list[dict]) -> None:
        """Re-assert every open episode (``endsAt = now + lease``) so Alertmanager keeps it firing."""
        if open_payloads:
            ends = _now() + self.lease.to_pytimedelta()
            self._post([self._alert(p, ends) for p in open_payloads])
