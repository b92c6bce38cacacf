"""What 04 shows beyond its headline (:mod:`workbench.present.evaluation`), on a real replay of
two services of the 14-day sample."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.evaluate.events import compare
from workbench.present.evaluation import alert_table, evaluation_measures, service_table
from workbench.workflows.evaluate import run_systems


@pytest.fixture(scope="module")
def evaluated(sample_config):
    model = sample_config.model.model_copy(update={"min_train": "8D", "retrain_every": "3D"})
    config = sample_config.model_copy(update={"model": model})
    return config, run_systems(config, services=["checkout", "payments"], jobs=1)


def test_each_service_then_the_total(evaluated):
    config, evaluation = evaluated
    table = service_table(evaluation, config.window)
    assert table["service"].tolist() == ["checkout", "payments", "all services"]
    per_service, total = table.iloc[:-1], table.iloc[-1]
    assert per_service["labelled incidents"].sum() == total["labelled incidents"] == evaluation.results["hybrid"]["incidents"]
    # Measured over the same span, the services' alerts per week add up to the total's.
    for column in ("old alerts per week", "new alerts per week"):
        assert per_service[column].sum() == pytest.approx(total[column], abs=0.02)
    assert not table.isna().any().any()


def test_a_service_without_labels_says_so(evaluated):
    config, evaluation = evaluated
    unlabelled = evaluation.incidents.iloc[0:0]
    results = compare(evaluation.alerts, unlabelled, evaluation.start, evaluation.end, window=config.window)
    bare = type(evaluation)(evaluation.runs, evaluation.alerts, unlabelled, evaluation.start, evaluation.end, results)
    table = service_table(bare, config.window)
    assert set(table["missed"]) == {"no labels yet"} and set(table["false alarms"]) == {"—"}
    assert [m.name for m in evaluation_measures(results)] == ["alerts per week"]


def test_alerts_in_words_rank_by_how_unusual(evaluated):
    _, evaluation = evaluated
    run = max(evaluation.runs.values(), key=lambda r: len(r.alerts["hybrid"]))
    alerts = run.alerts["hybrid"]
    table = alert_table(run)
    assert len(table) == len(alerts) > 0 and (alerts["source"] != "rule").any()
    by_rules = (alerts["source"] == "rule").to_numpy()
    assert (table.loc[by_rules, "how unusual"] == "—").all()
    assert table.loc[~by_rules, "how unusual"].str.match(r"^(once in [\d,^]+ normal weeks|most normal weeks)$").all()
    assert not table.isna().any().any() and "None" not in table.to_string()
    assert pd.api.types.is_datetime64_any_dtype(table["from"])  # formatted when shown, not here


def test_measures_follow_the_hybrid(evaluated):
    _, evaluation = evaluated
    measures = {m.name: m for m in evaluation_measures(evaluation.results)}
    hybrid = evaluation.results["hybrid"]
    assert measures["alerts per week"].value == hybrid["alerts_per_week"]
    assert measures["false-positive share"].percent and measures["false-positive share"].better == "lower"
    assert measures["missed incidents"].value == len(hybrid["missed_incidents"])
