"""The lifecycle replay (07 and the benchmark): daily drift checks, retrains by policy, day-ahead alerts."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.errors import DataError
from workbench.sources.sample import ensure_sample
from workbench.workflows.lifecycle import replay_lifecycle


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = make_project(tmp_path_factory.mktemp("lifecycle") / "wb", days=42, services=["checkout", "payments"])
    config = load_config(path)
    ensure_sample(config)
    return config


@pytest.fixture(scope="module")
def weekly(config):
    return replay_lifecycle(config, policy="weekly", weeks=2, services=["payments"])


def test_the_replay_retrains_weekly_and_checks_drift_daily_in_a_scratch_folder(config, weekly):
    assert not config.path("models").exists()  # the project's models were never written
    assert (weekly.start, weekly.end) == (pd.Timestamp("2026-09-29T00:00Z"), pd.Timestamp("2026-10-13T00:00Z"))
    days = [r.as_of[:10] for r in weekly.results]
    assert len(days) == 14 and days[0] == "2026-09-29"
    verdicts = [r.verdict for r in weekly.results]
    assert verdicts[0] == "first" and verdicts[7] in ("promote", "keep", "not_enough_evidence")
    assert set(verdicts[1:7] + verdicts[8:]) == {"not_due"}  # weekly, and nothing else
    assert len(weekly.drift) == 13  # a check every day there was a champion
    assert list(weekly.history["action"]) == ["first", verdicts[7].replace("_", " ")]
    assert weekly.confidence.index[0] == weekly.start and weekly.confidence["payments"].notna().mean() > 0.9


def test_the_report_tables_answer_first(weekly):
    headline = weekly.headline()
    assert headline["policy"] == "weekly" and headline["retrains"] == 1
    assert headline["promoted"] + headline["kept (challenger not better)"] + headline["not enough evidence"] == 1
    assert headline["answer"].startswith("Over 2 weeks, retraining weekly ") and "None" not in headline["answer"]
    per_service = weekly.per_service()
    assert list(per_service["service"]) == ["payments"] and per_service.loc[0, "champion"] and per_service.loc[0, "why"]
    assert len(weekly.comparisons()) == 1 and len(weekly.decisions()) == 2
    decisions = weekly.decisions()
    assert list(decisions["decision"])[0] == "first model" and list(decisions["trigger"]) == ["first model", "weekly schedule"]
    assert decisions["challenger cheaper by"][0] == "—" and decisions["challenger cheaper by"][1].endswith(" %")
    table = weekly.comparison_table()
    assert table["challenger cheaper by"][0].endswith(" %") and "day" in table
    outcomes = weekly.outcomes(split=pd.Timestamp("2026-10-06T00:00Z"))
    assert list(outcomes["period"]) == ["before", "after"]
    assert outcomes["incidents"].sum() == len(weekly.incidents[(weekly.incidents["start"] >= weekly.start) & (weekly.incidents["start"] < weekly.end)])
    plain = weekly.outcome_table()
    assert plain["policy"][0] == "retrain weekly" and plain["false-alarm share"][0].endswith("%") and "period" not in plain
    assert weekly.scope() == "payments; 2026-09-29 to 2026-10-12 (UTC)"
    assert [m.percent for m in weekly.measures()] == [True, False]
    changes = weekly.changes_table()  # the sample's migration of payments, with its factors under plain headings
    assert list(changes.columns[:3]) == ["service", "when", "what"] and "memory (points added)" in changes


def test_the_frozen_policy_keeps_its_first_champion(config):
    frozen = replay_lifecycle(config, policy="frozen", weeks=1, services=["payments"])
    assert [r.verdict for r in frozen.results] == ["first"] + ["not_due"] * 6
    assert list(frozen.history["action"]) == ["first"]


def test_a_replay_needs_a_week_after_the_minimum_training(config):
    with pytest.raises(DataError, match="unknown retraining policy"):
        replay_lifecycle(config, policy="monthly")
    short = config.model_copy(update={"model": config.model.model_copy(update={"min_train": "40D"})})
    with pytest.raises(DataError, match="needs a week after 40D of history"):
        replay_lifecycle(short, weeks=2, services=["payments"])
