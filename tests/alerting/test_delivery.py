"""Draining the outbox: order per episode, retries with backoff, dead letters, no late pages."""

import random

import pandas as pd
import pytest

from workbench.alerting.delivery import deliver
from workbench.alerting.sinks.file import FileSink
from workbench.alerting.state import AlertState
from workbench.errors import DeliveryError
from workbench.settings import AlertingSettings

T = pd.Timestamp("2026-09-21T00:00Z")


class Receiver:
    """A sink that records what it got and fails as scripted (``failures``: id -> errors to raise first)."""

    def __init__(self, failures=None):
        self.got, self.failures = [], {k: list(v) for k, v in (failures or {}).items()}

    def send(self, row):
        pending = self.failures.get(row["id"])
        if pending:
            raise pending.pop(0)
        self.got.append((row["episode"], row["event"]))


@pytest.fixture()
def state(tmp_path):
    with AlertState(tmp_path / "state.sqlite") as s:
        yield s


def queue(state, *events):
    with state.transaction():
        for episode, event in events:
            state.enqueue(["r"], episode, event, {"e": event}, T)


SETTINGS = AlertingSettings(max_attempts=3, backoff=0.01, max_backoff=0.02)


def test_in_order_and_once(state):
    queue(state, ("a", "trigger"), ("b", "trigger"), ("a", "update"))
    receiver = Receiver()
    report = deliver(state, {"r": receiver}, SETTINGS, T, budget=0)
    queue(state, ("a", "resolve"))
    deliver(state, {"r": receiver}, SETTINGS, T, budget=0)
    assert receiver.got == [("a", "trigger"), ("b", "trigger"), ("a", "update"), ("a", "resolve")]
    assert report.delivered == {"r": 3}
    deliver(state, {"r": receiver}, SETTINGS, T, budget=0)
    assert len(receiver.got) == 4


def test_a_retryable_failure_is_retried_then_waits_and_blocks_its_episode_only(state):
    queue(state, ("a", "trigger"), ("b", "trigger"))
    first = state.pending("r")[0]["id"]
    receiver = Receiver({first: [DeliveryError("HTTP 503", retry=True)] * 2})
    sleeps = []
    deliver(state, {"r": receiver}, SETTINGS, T, budget=10, sleep=sleeps.append, rng=random.Random(0))
    assert receiver.got == [("a", "trigger"), ("b", "trigger")] and len(sleeps) == 2
    assert all(0 <= s <= 0.02 for s in sleeps)  # full jitter under the cap


def test_without_budget_a_failure_is_postponed_and_later_events_wait(state):
    queue(state, ("a", "trigger"), ("a", "update"), ("b", "trigger"))
    first = state.pending("r")[0]["id"]
    receiver = Receiver({first: [DeliveryError("timed out", retry=True)]})
    deliver(state, {"r": receiver}, SETTINGS, T, budget=0)
    assert receiver.got == [("b", "trigger")]  # a's update never overtakes its trigger
    waiting = state.outbox("pending")
    assert waiting["attempts"].tolist() == [1, 0] and waiting["error"].tolist()[0] == "timed out"
    deliver(state, {"r": receiver}, SETTINGS, T + pd.Timedelta(minutes=10), budget=0)
    assert receiver.got == [("b", "trigger"), ("a", "trigger"), ("a", "update")]


def test_a_permanent_failure_is_a_dead_letter_and_retry_sends_it_in_order(state):
    queue(state, ("a", "trigger"), ("a", "update"))
    first = state.pending("r")[0]["id"]
    receiver = Receiver({first: [DeliveryError("HTTP 400: invalid routing key", retry=False)]})
    report = deliver(state, {"r": receiver}, SETTINGS, T, budget=0)
    assert report.dead == {"r": 1} and receiver.got == []
    assert state.outbox("dead")["error"].tolist() == ["HTTP 400: invalid routing key"]
    assert state.retry_dead() == 1
    deliver(state, {"r": receiver}, SETTINGS, T, budget=0)
    assert receiver.got == [("a", "trigger"), ("a", "update")]


def test_too_many_retryable_failures_end_as_a_dead_letter(state):
    queue(state, ("a", "trigger"))
    row = state.pending("r")[0]["id"]
    receiver = Receiver({row: [DeliveryError("HTTP 503", retry=True)] * 10})
    deliver(state, {"r": receiver}, SETTINGS, T, budget=10, sleep=lambda s: None)
    dead = state.outbox("dead")
    assert dead["attempts"].tolist() == [3] and dead["error"].tolist() == ["HTTP 503"]


@pytest.mark.parametrize(("late_pages", "expected"), [(False, []), (True, [("a", "trigger"), ("a", "resolve")])])
def test_an_episode_that_came_and_went_during_an_outage_is_not_paged_late(state, late_pages, expected):
    queue(state, ("a", "trigger"), ("a", "resolve"))
    receiver = Receiver()
    report = deliver(state, {"r": receiver}, SETTINGS.model_copy(update={"late_pages": late_pages}), T, budget=0)
    assert receiver.got == expected
    if not late_pages:
        assert report.skipped == {"r": 2} and "late_pages" in state.outbox("skipped")["error"].iloc[0]


def test_the_file_sink_writes_each_row_once(tmp_path):
    sink = FileSink(tmp_path / "alerts" / "events.jsonl")
    row = {"id": 7, "episode": "k", "event": "trigger", "payload": {"dedup_key": "k", "event": "trigger"}}
    sink.send(row)
    FileSink(sink.path).send(row)  # a repeat after a crash, from a new process
    assert [e["id"] for e in FileSink(sink.path).events()] == [7]


def test_the_file_sink_survives_a_line_cut_by_a_crash(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": 1, "event": "trigger"}\n{"id": 2, "ev')
    sink = FileSink(path)
    sink.send({"id": 2, "episode": "k", "event": "trigger", "payload": {"event": "trigger"}})
    assert [e["id"] for e in sink.events()] == [1, 2]


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        # Refused: the receiver never had it, so a trigger whose episode resolved meanwhile is held back.
        (DeliveryError("connection refused", retry=True), []),
        # Timed out after sending: the receiver may have paged; its resolve must follow.
        (DeliveryError("read timed out", retry=True, reached=True), [("a", "trigger"), ("a", "resolve")]),
    ],
)
def test_a_trigger_that_may_have_reached_the_receiver_is_never_held_back(state, failure, expected):
    queue(state, ("a", "trigger"))
    row = state.pending("r")[0]["id"]
    deliver(state, {"r": Receiver({row: [failure]})}, SETTINGS, T, budget=0)
    queue(state, ("a", "resolve"))  # the episode resolved while the sink could not take its trigger
    receiver = Receiver()
    deliver(state, {"r": receiver}, SETTINGS, T + pd.Timedelta(hours=1), budget=0)
    assert receiver.got == expected


def test_a_crash_mid_send_counts_as_maybe_sent(state):
    queue(state, ("a", "trigger"))
    row = state.pending("r")[0]["id"]

    class Crash(BaseException):
        pass

    class Dies:
        def send(self, row):
            raise Crash  # the process dies inside the hand-over

    with pytest.raises(Crash):
        deliver(state, {"r": Dies()}, SETTINGS, T, budget=0)
    queue(state, ("a", "resolve"))
    receiver = Receiver()
    deliver(state, {"r": receiver}, SETTINGS, T, budget=0)
    assert receiver.got == [("a", "trigger"), ("a", "resolve")]
    assert state.outbox("delivered")["id"].tolist()[0] == row


def test_a_backlog_larger_than_a_page_is_drained_whole_and_in_order(state):
    with state.transaction():
        for k in range(2500):
            state.enqueue(["r"], f"e{k}", "trigger", {"k": k}, T)
    receiver = Receiver()
    report = deliver(state, {"r": receiver}, SETTINGS, T, budget=0)
    assert report.delivered == {"r": 2500} and [e for e, _ in receiver.got] == [f"e{k}" for k in range(2500)]
