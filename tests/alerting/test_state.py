"""The alert state in SQLite: transactions all or nothing, one open episode per service, the outbox."""

import sqlite3

import pandas as pd
import pytest

from workbench.alerting.state import _ADDED_COLUMNS, AlertState
from workbench.errors import StoreError

T = pd.Timestamp("2026-09-21T00:00Z")


def episode(key="k1", service="checkout", status="open", **extra):
    base = {
        "key": key, "service": service, "status": status, "opened": T, "last_alert": T, "action": "page", "source": "rule",
        "confidence": None, "rules": "error_burst", "top_features": "", "model_version": "", "normal_windows": 0,
        "resolved": None, "updated": T,
    }
    return {**base, **extra}


@pytest.fixture()
def state(tmp_path):
    with AlertState(tmp_path / "alerts" / "state.sqlite") as s:
        yield s


def test_scored_marks_round_trip(state):
    assert state.last_scored("checkout") is None
    with state.transaction():
        state.set_scored("checkout", T)
        state.set_scored("checkout", T + pd.Timedelta("15min"))
    assert state.last_scored("checkout") == T + pd.Timedelta("15min")


def test_a_failed_transaction_leaves_nothing(state):
    with pytest.raises(RuntimeError), state.transaction():
        state.set_scored("checkout", T)
        state.save_episode(episode())
        state.enqueue(["file"], "k1", "trigger", {"a": 1}, T)
        raise RuntimeError("killed mid-cycle")
    assert state.last_scored("checkout") is None and state.episodes().empty and state.outbox().empty


def test_one_open_episode_per_service(state):
    with state.transaction():
        state.save_episode(episode("k1"))
    with pytest.raises(sqlite3.IntegrityError), state.transaction():
        state.save_episode(episode("k2"))
    with state.transaction():
        state.save_episode(episode("k1", status="resolved", resolved=T))
        state.save_episode(episode("k2"))
    assert state.episodes("open")["key"].tolist() == ["k2"] and state.open_episode("checkout")["key"] == "k2"


def test_outbox_rows_per_sink_in_order(state):
    with state.transaction():
        state.enqueue(["file", "pd"], "k1", "trigger", {"n": 1}, T)
        state.enqueue(["file", "pd"], "k1", "resolve", {"n": 2}, T)
    assert [r["payload"]["n"] for r in state.pending("file")] == [1, 2]
    first = state.pending("pd")[0]
    with state.transaction():
        state.finish(first["id"], "dead", T, 1, "HTTP 400: bad payload")
    assert state.outbox("dead")["error"].tolist() == ["HTTP 400: bad payload"]
    assert state.retry_dead("pd") == 1 and len(state.pending("pd")) == 2


def test_a_corrupt_state_file_is_a_clear_error(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="move the file aside"):
        AlertState(path)


def check_window_scores(state) -> None:
    """Per-window scores: stored by role, a rescore replaces its row, NaN stays NaN, ranges and forgetting."""
    w = [T + i * pd.Timedelta("15min") for i in range(4)]
    with state.transaction():
        state.save_scores("checkout", [(w[0], "champion", "v1", 12.5), (w[0], "challenger", "v2", float("nan")), (w[1], "champion", "v1", 99.0)])
        state.save_scores("payments", [(w[0], "champion", "p1", 1.0)])
    with state.transaction():
        state.save_scores("checkout", [(w[1], "champion", "v1b", 50.0), (w[3], "challenger", "v2", 7.0)])
    got = state.window_scores("checkout")
    assert got["window"].tolist() == [w[0], w[0], w[1], w[3]] and str(got["window"].dt.tz) == "UTC"
    assert got["role"].tolist() == ["challenger", "champion", "champion", "challenger"]
    assert got["version"].tolist() == ["v2", "v1", "v1b", "v2"]
    assert got["confidence"].isna().tolist() == [True, False, False, False] and got["confidence"].iloc[2] == 50.0
    assert state.window_scores("checkout", w[1], w[3])["window"].tolist() == [w[1]]
    assert state.window_scores("nobody").empty
    with pytest.raises(RuntimeError), state.transaction():
        state.save_scores("checkout", [(w[2], "champion", "v1", 3.0)])
        raise RuntimeError("killed mid-cycle")
    assert w[2] not in set(state.window_scores("checkout")["window"])
    assert state.forget_scores(w[1]) == 3
    assert state.window_scores("checkout")["window"].tolist() == [w[1], w[3]]


def test_window_scores(state):
    check_window_scores(state)


def test_an_episode_keeps_its_advice_and_one_made_without_it_has_none(state):
    advice = {"suggestion": "Rolled back the deploy", "citations": "INC-0003", "similar_incidents": "the closest past incident is INC-0003"}
    with state.transaction():
        state.save_episode(episode("k1", **advice))
        state.save_episode(episode("k2", service="payments"))  # no advice fields at all
    rows = state.episodes().set_index("key")
    assert rows.loc["k1", list(advice)].to_dict() == advice
    assert rows.loc["k2", list(advice)].tolist() == ["", "", ""]


def test_an_episode_keeps_how_unusual_its_worst_window_was(state):
    with state.transaction():
        state.save_episode(episode("k1", source="model", confidence=100.0, log10_tail=-13.25, unusual="once in 10^10 normal weeks"))
        state.save_episode(episode("k2", service="payments"))  # a rule's page: neither
    rows = state.episodes().set_index("key")
    assert rows.loc["k1", "log10_tail"] == -13.25 and rows.loc["k1", "unusual"] == "once in 10^10 normal weeks"
    assert pd.isna(rows.loc["k2", "log10_tail"]) and rows.loc["k2", "unusual"] == ""


def test_a_state_from_before_advice_is_upgraded_in_place_and_loses_nothing(tmp_path):
    path = tmp_path / "state.sqlite"
    with AlertState(path) as s, s.transaction():
        s.save_episode(episode("k1"))
        s.enqueue(["file"], "k1", "trigger", {"n": 1}, T)
        s.set_scored("checkout", T)
    # Make it the schema of an older release: the episodes table without the columns added since.
    db = sqlite3.connect(path)
    for _, column, _ in _ADDED_COLUMNS:
        db.execute(f"ALTER TABLE episodes DROP COLUMN {column}")
    db.commit()
    db.close()
    with AlertState(path) as s:
        row = s.open_episode("checkout")
        assert row["similar_incidents"] == "" and row["unusual"] == "" and row["log10_tail"] is None
        assert len(s.outbox()) == 1 and s.last_scored("checkout") == T
        with s.transaction():
            s.save_episode(episode("k1", suggestion="Restarted the pods", citations="INC-0001"))
        assert s.open_episode("checkout")["suggestion"] == "Restarted the pods"
    with AlertState(path) as s:  # opening an upgraded state again changes nothing
        assert s.open_episode("checkout")["citations"] == "INC-0001"


def test_two_processes_upgrading_at_once_both_open_and_nothing_is_lost(tmp_path):
    """The second opener decided "missing" before the first committed its upgrade: it must
    look again under the write lock, not fail (and never tell anyone to discard the state)."""
    path = tmp_path / "state.sqlite"
    with AlertState(path) as s, s.transaction():
        s.save_episode(episode("k1"))
    db = sqlite3.connect(path)
    for _, column, _ in _ADDED_COLUMNS:
        db.execute(f"ALTER TABLE episodes DROP COLUMN {column}")
    db.commit()
    db.close()

    class Racing(AlertState):
        calls = 0

        def _missing_columns(self):
            missing = super()._missing_columns()
            Racing.calls += 1
            if Racing.calls == 1:  # the other process upgrades right after this one looked
                with AlertState(path):
                    pass
            return missing

    with Racing(path) as s:
        assert s.open_episode("checkout")["key"] == "k1" and s.open_episode("checkout")["suggestion"] == ""
    assert Racing.calls == 2
