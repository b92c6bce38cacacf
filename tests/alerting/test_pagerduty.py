"""The pagerduty sink against a local receiver implementing the Events API v2's documented
behaviour (PagerDuty is SaaS the tests cannot reach; see workbench.testing.pagerduty)."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from conftest import make_project

from workbench.alerting.episodes import Event, payload
from workbench.alerting.sinks.pagerduty import PagerDutySink
from workbench.alerting.state import AlertState
from workbench.config import load_config
from workbench.errors import ConfigError, DeliveryError
from workbench.testing.pagerduty import LocalPagerDuty
from workbench.workflows.score import score
from workbench.workflows.train import train_services

T = pd.Timestamp("2026-09-21T00:00Z")
KEY = "R0UT1NGKEY0123456789abcdef012345"


def row(key, kind="trigger", action="page", n=1, **advice):
    ep = {
        "key": key, "service": "checkout", "status": "resolved" if kind == "resolve" else "open", "opened": T,
        "last_alert": T, "action": action, "source": "rule", "confidence": None, "rules": "error_burst",
        "top_features": "", "model_version": "", "normal_windows": 0,
        "resolved": T + pd.Timedelta("1h") if kind == "resolve" else None, "updated": T, **advice,
    }
    return {"id": n, "event": kind, "episode": key, "payload": payload(Event(kind, ep, T))}


@pytest.fixture()
def receiver():
    with LocalPagerDuty() as pd_receiver:
        yield pd_receiver


def test_dedup_while_open_and_resolve(receiver):
    sink = PagerDutySink(KEY, receiver.url)
    sink.send(row("ep-1"))
    sink.send(row("ep-1", "update", "page_with_context"))  # an escalation: the same incident
    assert len(receiver.incidents) == 1 and len(receiver.incidents[0].events) == 2
    first = receiver.incidents[0].events[0]
    assert first["payload"]["severity"] == "critical" and first["payload"]["component"] == "checkout"
    assert first["payload"]["custom_details"]["rules fired"] == "error_burst"
    sink.send(row("ep-1", "resolve"))
    assert receiver.open_incidents() == []


def test_the_incident_details_carry_the_suggested_step_and_its_citations(receiver):
    advice = {"suggestion": "Rolled back the deploy", "citations": "INC-0003, INC-0009", "similar_incidents": "the closest past incident is INC-0003, 0.97 similar"}
    PagerDutySink(KEY, receiver.url).send(row("ep-advice", **advice, unusual="once in 10^9 normal weeks", log10_tail=-12.3))
    details = receiver.incidents[0].events[0]["payload"]["custom_details"]
    assert details["how unusual"] == "once in 10^9 normal weeks"
    assert (details["suggested step"], details["cited incidents"], details["similar past incidents"]) == tuple(advice.values())
    assert "suggested step Rolled back the deploy (as in INC-0003, INC-0009)" in receiver.incidents[0].events[0]["payload"]["summary"]


def test_a_trigger_after_a_resolve_opens_a_new_incident_at_pagerduty(receiver):
    # The documented semantics the outbox guards against (it never sends one).
    sink = PagerDutySink(KEY, receiver.url)
    for kind in ("trigger", "resolve", "trigger"):
        sink.send(row("ep-2", kind))
    assert len(receiver.incidents) == 2


def test_investigations_are_warnings(receiver):
    PagerDutySink(KEY, receiver.url).send(row("ep-3", action="investigate"))
    assert receiver.incidents[0].events[0]["payload"]["severity"] == "warning"


def test_a_bad_payload_is_a_dead_letter_and_an_outage_is_retryable(receiver):
    sink = PagerDutySink(KEY, receiver.url)
    bad = row("ep-4")
    bad["payload"]["summary"] = ""
    with pytest.raises(DeliveryError) as refused:
        sink.send(bad)
    assert not refused.value.retry and "HTTP 400" in refused.value.reason and "payload.summary" in refused.value.reason
    receiver.down = True
    with pytest.raises(DeliveryError) as down:
        sink.send(row("ep-4"))
    assert down.value.retry and "503" in down.value.reason


def test_the_client_side_limit_keeps_under_the_receivers_rate():
    with LocalPagerDuty(rate=10, per=2.0) as limited:
        fast = PagerDutySink("another-key-without-a-limit-yet1", limited.url, rate=1000, per=2.0)
        refused = 0
        for n in range(15):
            try:
                fast.send(row(f"burst-{n}", n=n))
            except DeliveryError:
                refused += 1
        assert refused == 5 and limited.responses.count(429) == 5  # the receiver's limit is real
    with LocalPagerDuty(rate=10, per=2.0) as limited:
        polite = PagerDutySink(KEY + "x", limited.url, rate=8, per=2.0)
        started = time.monotonic()
        for n in range(20):
            polite.send(row(f"calm-{n}", n=n))
        assert limited.responses.count(429) == 0 and len(limited.incidents) == 20
        assert time.monotonic() - started >= 2.0  # it waited for slots instead


@pytest.mark.parametrize(
    ("options", "env", "message"),
    [
        ({}, {}, "needs a routing key"),
        ({"routing_key": KEY}, {"WORKBENCH_PAGERDUTY_ROUTING_KEY": KEY}, "does not belong in workbench.yaml"),
        ({"colour": "red"}, {"WORKBENCH_PAGERDUTY_ROUTING_KEY": KEY}, "has no settings"),
    ],
)
def test_the_routing_key_comes_only_from_the_environment(sample_config, monkeypatch, options, env, message):
    monkeypatch.delenv("WORKBENCH_PAGERDUTY_ROUTING_KEY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError, match=message):
        PagerDutySink.from_settings(options, sample_config)


def test_the_routing_key_is_never_shown(receiver):
    assert KEY not in repr(PagerDutySink(KEY, receiver.url))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = make_project(tmp_path_factory.mktemp("pd") / "wb", days=28, services=["checkout", "payments"], alerting={"sinks": [{"kind": "pagerduty"}]})
    train_services(load_config(path))
    return path


def _episodes(config):
    with AlertState(config.root / config.alerting.state) as state:
        return state.episodes(), state.outbox()


@pytest.fixture()
def project(trained, tmp_path, monkeypatch):
    """A copy of the trained project, its pagerduty sink pointed at a fresh local receiver."""
    import shutil

    shutil.copytree(trained.parent, tmp_path / "wb")
    with LocalPagerDuty() as receiver:
        monkeypatch.setenv("WORKBENCH_PAGERDUTY_ROUTING_KEY", KEY)
        monkeypatch.setenv("WORKBENCH_PAGERDUTY_URL", receiver.url)
        yield load_config(tmp_path / "wb" / "workbench.yaml"), receiver


def test_the_live_loop_opens_one_incident_per_episode_and_resolves_it(project):
    config, receiver = project
    score(config, start="2026-09-21", end="2026-09-28")
    episodes, outbox = _episodes(config)
    assert len(episodes) >= 2 and outbox["state"].eq("delivered").all()
    assert sorted(i.dedup_key for i in receiver.incidents) == sorted(episodes["key"])  # one incident each
    resolved = set(episodes.loc[episodes["status"] == "resolved", "key"])
    assert {i.dedup_key for i in receiver.incidents if i.resolved} == resolved
    assert 429 not in receiver.responses


def test_an_outage_of_days_delivers_once_in_order_and_does_not_page_late(project):
    config, receiver = project
    receiver.down = True
    score(config, start="2026-09-21", end="2026-09-25")  # four days of windows; the receiver answers 503
    during, _ = _episodes(config)
    came_and_went = set(during.loc[during["status"] == "resolved", "key"])
    still_open = set(during.loc[during["status"] == "open", "key"])
    assert came_and_went, "the outage should see an episode open and resolve"
    receiver.down = False
    score(config, start="2026-09-25", end="2026-09-28")
    episodes, outbox = _episodes(config)
    paged = {i.dedup_key for i in receiver.incidents}
    assert not paged & came_and_went  # recorded, not paged late
    assert set(outbox.loc[outbox["state"] == "skipped", "episode"]) == came_and_went
    assert still_open <= paged  # still a problem when PagerDuty came back: paged
    assert len(receiver.incidents) == len(paged)  # once each
    for incident in receiver.incidents:
        actions = [e["event_action"] for e in incident.events]
        assert actions[0] == "trigger" and actions.count("resolve") <= 1 and (actions[-1] == "resolve") == incident.resolved
    assert 429 not in receiver.responses and outbox["state"].isin(["delivered", "skipped"]).all()


def test_a_hundred_sigkills_lose_no_episode_and_page_each_once(trained, tmp_path):
    """Real `workbench score` runs SIGKILLed at random moments (at least 100 land), each sweep
    then run to the end: every episode reaches PagerDuty as exactly one incident, nothing is
    sent after a resolve, and every resolved episode ends resolved at the receiver."""
    import os
    import random
    import shutil
    import signal

    from zygote import Zygote

    def argv(folder):
        return ["--config", str(folder / "workbench.yaml"), "score", "--from", "2026-09-21", "--to", "2026-09-28"]

    landed, rng = 0, random.Random(20261128)
    with LocalPagerDuty() as receiver:
        env = {**os.environ, "WORKBENCH_PAGERDUTY_ROUTING_KEY": KEY, "WORKBENCH_PAGERDUTY_URL": receiver.url}
        zygote = Zygote(tmp_path, env)
        try:
            clean = tmp_path / "clean"
            shutil.copytree(trained.parent, clean)
            status, duration = zygote.run(argv(clean))
            assert status == 0
            expected, _ = _episodes(load_config(clean / "workbench.yaml"))
            assert len(expected) >= 2
            sweep = 0
            # Sweeps until 100 kills have landed mid-run (a run that ends before its kill is no test).
            while landed < 100 and sweep < 10:
                sweep += 1
                folder = tmp_path / f"crashed-{sweep}"
                shutil.copytree(trained.parent, folder)
                receiver.incidents.clear()
                for delay in sorted(rng.uniform(0.05, 0.7 * duration) for _ in range(25)):
                    status, _ = zygote.run(argv(folder), kill_after=delay)
                    assert status in (0, -signal.SIGKILL), f"a run failed on its own (status {status})"
                    landed += status == -signal.SIGKILL
                assert zygote.run(argv(folder))[0] == 0
                got, outbox = _episodes(load_config(folder / "workbench.yaml"))
                assert got[["key", "status", "action", "source"]].values.tolist() == expected[["key", "status", "action", "source"]].values.tolist()
                assert sorted(i.dedup_key for i in receiver.incidents) == sorted(got["key"]), f"sweep {sweep}"
                resolved = set(got.loc[got["status"] == "resolved", "key"])
                for incident in receiver.incidents:
                    actions = [e["event_action"] for e in incident.events]
                    assert actions[0] == "trigger" and actions.count("resolve") <= 1
                    assert incident.resolved == (incident.dedup_key in resolved) == (actions[-1] == "resolve")
                assert outbox["state"].eq("delivered").all()
        finally:
            zygote.close()
    assert landed >= 100, f"only {landed} kills landed mid-run"
