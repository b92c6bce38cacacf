"""The alertmanager sink against Debian's real Alertmanager, routing to a local webhook receiver.

Skips without ``prometheus-alertmanager`` unless WORKBENCH_REQUIRE_SERVERS=1 (then it fails).
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
import requests
from conftest import need

from workbench.alerting.episodes import Event, payload
from workbench.alerting.sinks.alertmanager import AlertmanagerSink
from workbench.config import load_config
from workbench.errors import ConfigError, DeliveryError
from workbench.testing.alertmanager import (
    LocalAlertmanager,
    WebhookReceiver,
    alertmanager_bin,
)
from workbench.testing.process import free_port

T = pd.Timestamp("2026-09-21T00:00Z")


@pytest.fixture(scope="module")
def alertmanager():
    need(alertmanager_bin() is not None, "Debian's prometheus-alertmanager is not installed")
    with WebhookReceiver() as hook, LocalAlertmanager(hook.url, group_wait="1s", group_interval="1s") as am:
        yield am, hook


ADVICE = {
    "suggestion": "Connection pool recycled",
    "citations": "INC-0017, INC-0025",
    "similar_incidents": "the closest past incident is INC-0017 (catalog, latency_spike: hung connection), 0.98 similar",
}


def episode_payload(key, kind="trigger", action="investigate", source="model", previous=None, advice=None):
    ep = {
        "key": key, "service": "checkout", "status": "resolved" if kind == "resolve" else "open", "opened": T,
        "last_alert": T, "action": action, "source": source, "confidence": 97.5, "rules": "" if source == "model" else "p99_over_5s",
        "top_features": "latency p99 well above its usual level for a weekday 14:00 (z +8.1)", "model_version": "v1", "normal_windows": 0,
        "resolved": T + pd.Timedelta("1h") if kind == "resolve" else None, "updated": T, **(advice or {}),
    }
    return {"id": 1, "event": kind, "episode": key, "payload": payload(Event(kind, ep, T, previous))}


def wait_for(predicate, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def alerts_for(hook, key, status=None):
    return [a for a in hook.alerts(status) if a["labels"].get("episode") == key]


def test_trigger_fires_with_labels_and_the_why(alertmanager):
    am, hook = alertmanager
    sink = AlertmanagerSink([am.url], lease=pd.Timedelta("1h"))
    sink.send(episode_payload("k-fire"))
    assert wait_for(lambda: alerts_for(hook, "k-fire", "firing"))
    alert = alerts_for(hook, "k-fire", "firing")[0]
    assert alert["labels"] == {
        "alertname": "AiopsWorkbench", "service": "checkout", "episode": "k-fire",
        "severity": "warning", "action": "investigate", "source": "model",
    }
    assert alert["annotations"]["top_features"] == "latency p99 well above its usual level for a weekday 14:00 (z +8.1)"
    assert alert["annotations"]["confidence"] == "97.5" and alert["startsAt"].startswith("2026-09-21T00:00:00")
    assert "suggestion" not in alert["annotations"] and "unusual" not in alert["annotations"]  # none known, no empty annotation


def test_a_page_with_advice_carries_the_step_and_its_citations(alertmanager):
    am, hook = alertmanager
    rare = {"unusual": "once in 10^9 normal weeks", "log10_tail": -12.3}
    AlertmanagerSink([am.url], lease=pd.Timedelta("1h")).send(episode_payload("k-advice", advice={**ADVICE, **rare}))
    assert wait_for(lambda: alerts_for(hook, "k-advice", "firing"))
    notes = alerts_for(hook, "k-advice", "firing")[0]["annotations"]
    assert notes["suggestion"] == "Connection pool recycled (as in INC-0017, INC-0025)"
    assert notes["similar_incidents"] == ADVICE["similar_incidents"] and notes["unusual"] == "once in 10^9 normal weeks"
    assert "model confidence 98 (once in 10^9 normal weeks)" in notes["summary"]
    assert notes["summary"].endswith("; suggested step Connection pool recycled (as in INC-0017, INC-0025)")


def test_refreshing_keeps_an_episode_firing_through_a_short_pause(alertmanager):
    am, hook = alertmanager
    sink = AlertmanagerSink([am.url], lease=pd.Timedelta("3s"))
    row = episode_payload("k-lease")
    sink.send(row)
    assert wait_for(lambda: alerts_for(hook, "k-lease", "firing"))
    for _ in range(4):  # the loop keeps running, with a pause shorter than the lease
        time.sleep(1.5)
        sink.refresh([row["payload"]])
    time.sleep(1.5)
    assert not alerts_for(hook, "k-lease", "resolved"), "Alertmanager resolved an episode the loop still asserts"
    # Re-asserting is not re-notifying: one notification for the group, as group_wait promises.
    assert len(alerts_for(hook, "k-lease", "firing")) == 1
    # Without the loop, the lease runs out and Alertmanager resolves it itself: why refresh exists.
    assert wait_for(lambda: alerts_for(hook, "k-lease", "resolved"), seconds=20)


def test_an_escalation_ends_the_old_label_set_and_a_resolve_arrives(alertmanager):
    am, hook = alertmanager
    sink = AlertmanagerSink([am.url], lease=pd.Timedelta("1h"))
    sink.send(episode_payload("k-esc"))
    assert wait_for(lambda: alerts_for(hook, "k-esc", "firing"))
    sink.send(episode_payload("k-esc", "update", "page_with_context", "both", previous=("investigate", "model")))
    assert wait_for(lambda: any(a["labels"]["action"] == "page_with_context" for a in alerts_for(hook, "k-esc", "firing")))
    assert wait_for(lambda: any(a["labels"]["action"] == "investigate" for a in alerts_for(hook, "k-esc", "resolved")))
    sink.send(episode_payload("k-esc", "resolve", "page_with_context", "both"))
    assert wait_for(lambda: any(a["labels"]["action"] == "page_with_context" for a in alerts_for(hook, "k-esc", "resolved")))
    active = requests.get(f"{am.url}/api/v2/alerts", params={"filter": 'episode="k-esc"'}, timeout=5).json()
    assert [a for a in active if a["status"]["state"] == "active"] == []


def test_a_bad_alert_is_refused_for_good_and_a_dead_peer_is_retryable(alertmanager):
    am, _ = alertmanager
    sink = AlertmanagerSink([am.url], lease=pd.Timedelta("1h"))
    bad = episode_payload("k-bad")
    bad["payload"]["opened"] = "not a time"
    with pytest.raises(DeliveryError) as refused:
        sink.send(bad)
    assert not refused.value.retry and "HTTP 400" in refused.value.reason
    down = AlertmanagerSink([f"http://127.0.0.1:{free_port()}"], lease=pd.Timedelta("1h"), timeout=2)
    with pytest.raises(DeliveryError) as unreachable:
        down.send(episode_payload("k-down"))
    assert unreachable.value.retry and not unreachable.value.reached


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs peers"),
        ({"peers": ["http://user:secret@127.0.0.1:9093"]}, "credentials do not belong"),
        ({"peers": ["http://127.0.0.1:9093"], "colour": "red"}, "has no settings"),
    ],
)
def test_bad_settings_are_clear(sample_config, monkeypatch, options, message):
    monkeypatch.delenv("WORKBENCH_ALERTMANAGER_URL", raising=False)
    with pytest.raises(ConfigError, match=message):
        AlertmanagerSink.from_settings(options, sample_config)


def test_the_live_loop_delivers_to_alertmanager_and_resolves_there(alertmanager, tmp_path):
    from conftest import make_project

    from workbench.alerting.state import AlertState
    from workbench.workflows.score import score
    from workbench.workflows.train import train_services

    am, hook = alertmanager
    path = make_project(
        tmp_path / "wb", days=28, services=["checkout"],
        alerting={"sinks": [{"kind": "file"}, {"kind": "alertmanager", "peers": [am.url]}]},
    )
    config = load_config(path)
    train_services(config)
    # Replay a few hours at a time until an episode is open at the end of a run.
    cursor, stop, open_now, delivered = pd.Timestamp("2026-09-15T00:00Z"), pd.Timestamp("2026-09-28T00:00Z"), [], 0
    while cursor < stop and not len(open_now):
        run = score(config, start=cursor, end=cursor + pd.Timedelta("3h"))
        delivered += run.delivery.delivered.get("alertmanager", 0)
        cursor += pd.Timedelta("3h")
        with AlertState(config.root / config.alerting.state) as state:
            open_now = state.episodes("open")
    assert len(open_now) == 1 and delivered >= 1, "the sample fortnight has no episode to follow"
    key = open_now["key"].iloc[0]
    assert wait_for(lambda: alerts_for(hook, key, "firing"))
    score(config, start=cursor, end=stop)
    assert wait_for(lambda: alerts_for(hook, key, "resolved"))
    # One notification while it fired (group_wait, then nothing new until the resolve), one for the resolve.
    # (per label set: an escalation fires the new action's alert and ends the old one)
    for status in ("firing", "resolved"):
        actions = [a["labels"]["action"] for a in alerts_for(hook, key, status)]
        assert len(actions) == len(set(actions)) >= 1, (status, actions)
    with AlertState(config.root / config.alerting.state) as state:
        assert state.outbox("pending").empty and state.episodes("open").empty
