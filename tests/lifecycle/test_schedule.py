"""When a retrain is due: no champion, weekly, or drift acting since the last retrain."""

from __future__ import annotations

import pandas as pd

from workbench.lifecycle.schedule import last_retrain, retrain_due

AT = pd.Timestamp("2026-10-20T00:00Z")


def row(action: str, as_of: str) -> dict:
    return {"at": "2026-11-28T00:00:00+00:00", "as_of": as_of, "action": action, "moves": {}}


def test_no_champion_is_always_due():
    assert retrain_due([], False, AT, "7D") == (True, "no champion yet")


def test_weekly_schedule_counts_from_the_last_retrain_decision_in_data_time():
    rows = [row("first", "2026-10-10T00:00Z"), row("rollback", "2026-10-19T00:00Z")]  # a rollback is not a retrain
    assert last_retrain(rows) == pd.Timestamp("2026-10-10T00:00Z")
    due, why = retrain_due(rows, True, AT, "7D")
    assert due and why.startswith("scheduled: the last retrain was 10 days ago")
    due, why = retrain_due([row("keep", "2026-10-15T00:00Z")], True, AT, "7D")
    assert not due and why.startswith("not due")


def test_acting_drift_since_the_last_retrain_makes_it_due_early():
    rows = [row("keep", "2026-10-18T00:00Z")]
    drift = {"status": "act", "at": "2026-10-19T12:00Z", "reasons": ["latency_p95_z: PSI 0.9"]}
    assert retrain_due(rows, True, AT, "7D", drift) == (True, "drift acted: latency_p95_z: PSI 0.9")
    older = {**drift, "at": "2026-10-17T00:00Z"}  # already answered by the retrain after it
    assert not retrain_due(rows, True, AT, "7D", older)[0]
    assert not retrain_due(rows, True, AT, "7D", {**drift, "status": "warn"})[0]


def test_each_policy_answers_its_own_question():
    rows = [row("keep", "2026-10-10T00:00Z")]  # ten days old
    drift = {"status": "act", "at": "2026-10-19T12:00Z", "reasons": ["cpu_usage_z moved"]}
    assert retrain_due(rows, True, AT, "7D", drift, policy="frozen") == (False, "not due: the frozen policy never retrains")
    assert retrain_due(rows, False, AT, "7D", drift, policy="frozen")[0]  # but the first model is always made
    assert retrain_due(rows, True, AT, "7D", None, policy="weekly")[1].startswith("scheduled")
    assert retrain_due(rows, True, AT, "7D", drift, policy="weekly")[1].startswith("scheduled")
    assert retrain_due(rows, True, AT, "7D", None, policy="drift") == (False, "not due: no acting drift since the last retrain")
    assert retrain_due(rows, True, AT, "7D", drift, policy="drift")[1].startswith("drift acted")


def test_an_unknown_policy_is_refused():
    import pytest

    from workbench.errors import ParameterError

    with pytest.raises(ParameterError, match="unknown retraining policy"):
        retrain_due([], True, AT, "7D", policy="monthly")


def test_persistent_drift_retrains_at_most_every_cooldown():
    rows = [row("keep", "2026-10-19T00:00Z")]  # yesterday, after drift acted the day before
    drift = {"status": "act", "at": "2026-10-19T23:00Z", "reasons": ["still moved"]}
    assert not retrain_due(rows, True, AT, "7D", drift, cooldown="2D")[0]
    assert retrain_due(rows, True, AT + pd.Timedelta("1D"), "7D", {**drift, "at": "2026-10-20T23:00Z"}, cooldown="2D")[0]
