"""The alert state in PostgreSQL (a real, throwaway cluster): the same behaviour as the SQLite
file, and the live loop using it when the store is PostgreSQL."""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest
from conftest import make_project

from workbench.alerting.sinks.file import FileSink
from workbench.alerting.state import _ADDED_COLUMNS, open_alert_state
from workbench.alerting.state_postgres import PostgresAlertState
from workbench.config import load_config
from workbench.errors import StoreError
from workbench.workflows.score import score
from workbench.workflows.train import train_services

T = pd.Timestamp("2026-09-21T00:00Z")


def episode(key="k1", status="open", **extra):
    base = {
        "key": key, "service": "checkout", "status": status, "opened": T, "last_alert": T, "action": "page", "source": "rule",
        "confidence": 97.123456789, "rules": "error_burst", "top_features": "", "model_version": "", "normal_windows": 0,
        "resolved": None, "updated": T,
    }
    return {**base, **extra}


@pytest.fixture()
def state(postgres):
    with PostgresAlertState(postgres.dsn) as s:
        s._run("TRUNCATE scored, episodes, outbox, window_scores")
        yield s


def test_round_trip_and_all_or_nothing(state):
    with pytest.raises(RuntimeError), state.transaction():
        state.set_scored("checkout", T)
        state.save_episode(episode())
        raise RuntimeError("killed mid-cycle")
    assert state.last_scored("checkout") is None and state.episodes().empty
    with state.transaction():
        state.set_scored("checkout", T)
        state.save_episode(episode())
        state.enqueue(["file", "pd"], "k1", "trigger", {"n": 1}, T)
    assert state.last_scored("checkout") == T
    assert state.open_episode("checkout")["confidence"] == 97.123456789  # double precision, not float4
    assert [r["payload"] for r in state.pending("pd")] == [{"n": 1}]


def test_one_open_episode_per_service_is_enforced(state):
    with state.transaction():
        state.save_episode(episode("k1"))
    with pytest.raises(psycopg.errors.UniqueViolation), state.transaction():
        state.save_episode(episode("k2"))
    assert state.episodes("open")["key"].tolist() == ["k1"]


def test_dead_letters_and_retry(state):
    with state.transaction():
        state.enqueue(["pd"], "k1", "trigger", {"n": 1}, T)
    row = state.pending("pd")[0]
    with state.transaction():
        state.finish(row["id"], "dead", T, 1, "HTTP 400")
    assert state.dead_episodes("pd") == {"k1"} and state.retry_dead() == 1 and len(state.pending("pd")) == 1


def test_window_scores_behave_as_in_sqlite(state):
    from alerting.test_state import check_window_scores

    check_window_scores(state)


def test_a_state_from_before_advice_is_upgraded_and_keeps_its_rows(state, postgres):
    with state.transaction():
        state.save_episode(episode())
    for _, column, _ in _ADDED_COLUMNS:
        state._run(f"ALTER TABLE episodes DROP COLUMN {column}")  # an older release's schema
    with PostgresAlertState(postgres.dsn) as again:  # opening adds what is missing
        row = again.open_episode("checkout")
        assert row["similar_incidents"] == "" and row["unusual"] == "" and row["log10_tail"] is None
        with again.transaction():
            again.save_episode(episode(source="model", confidence=100.0, log10_tail=-13.123456789, unusual="once in 10^10 normal weeks"))
        assert again.open_episode("checkout")["log10_tail"] == -13.123456789  # double precision, as in SQLite (4-byte REAL would round it)
        with again.transaction():
            again.save_episode(episode(suggestion="Rolled back the deploy", citations="INC-0003"))
        assert (again.open_episode("checkout")["suggestion"], again.open_episode("checkout")["citations"]) == ("Rolled back the deploy", "INC-0003")


def test_hosts_opening_the_state_at_once_never_deadlock(state, postgres):
    import threading

    errors = []

    def open_once(barrier):
        barrier.wait()
        try:
            with PostgresAlertState(postgres.dsn):
                pass
        except StoreError as exc:
            errors.append(str(exc))

    for _ in range(10):
        barrier = threading.Barrier(3)
        threads = [threading.Thread(target=open_once, args=(barrier,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_an_unreachable_database_is_a_store_error():
    with pytest.raises(StoreError, match="cannot open the alert state in PostgreSQL"):
        PostgresAlertState("host=127.0.0.1 port=1 dbname=x connect_timeout=2")


def test_the_live_loop_keeps_its_state_in_postgres_when_the_store_is_postgres(postgres, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_POSTGRES_DSN", postgres.dsn)
    path = make_project(tmp_path / "wb", days=28, services=["checkout"], store={"kind": "postgres"})
    config = load_config(path)
    train_services(config)
    with open_alert_state(config) as state:
        assert isinstance(state, PostgresAlertState)
        state._run("TRUNCATE scored, episodes, outbox")
    first = score(config, start="2026-09-21", end="2026-09-28")
    again = score(config, start="2026-09-21", end="2026-09-28")
    assert sum(c.windows for c in first.services) == 672 and sum(c.windows for c in again.services) == 0
    assert not (config.root / config.alerting.state).exists()  # nothing in the SQLite file
    with open_alert_state(config) as state:
        episodes, outbox = state.episodes(), state.outbox()
    assert len(episodes) >= 1 and outbox["state"].eq("delivered").all()
    events = [e["event"] for e in FileSink(config.root / "data" / "alerts" / "events.jsonl").events()]
    assert events.count("trigger") == len(episodes)
