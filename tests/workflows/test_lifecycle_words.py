"""07's decisions in words (:mod:`workbench.workflows.lifecycle_words`), on hand-made figures."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.settings.lifecycle import LifecycleSettings
from workbench.workflows.lifecycle_words import (
    answer_sentence,
    drift_words,
    policy_words,
    trigger_words,
    verdict_words,
    why_words,
)
from workbench.workflows.retrain import RetrainResult

SETTINGS = LifecycleSettings()  # 5 % saving, one point of false alarms, 2 incidents


def figures(improvement=0.0, lower=0.0, champion=10.0, incidents=2, earlier=0, regressions=(), fp_rise=0.0) -> dict:
    return {
        "improvement": improvement, "lower_bound": lower, "champion": {"cost": champion}, "incidents": incidents,
        "earlier_incidents": [{}] * earlier, "regressions": list(regressions), "fp_rise": fp_rise,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("verdict", "figs", "why"),
    [
        ("first", {}, "the service had no model yet"),
        ("not_enough_evidence", figures(incidents=0, earlier=1), "only 1 labelled incident to judge it by (2 needed)"),
        ("not_enough_evidence", figures(incidents=0), "no labelled incidents to judge it by (2 needed)"),
        ("keep", figures(improvement=0.0), "the challenger was no cheaper"),
        ("keep", figures(improvement=0.02), "the challenger was only 2 % cheaper (5 % needed)"),
        ("keep", figures(improvement=-0.155, lower=-0.25), "the challenger cost 16 % more"),
        ("keep", figures(champion=0.0), "the champion cost nothing: nothing to improve"),
        ("keep", figures(improvement=0.22, lower=0.0), "its 22 % saving is not sure: it could be none"),
        ("keep", figures(improvement=0.62, lower=-6.8), "its 62 % saving is not sure: it could even cost more"),
        ("keep", figures(improvement=0.3, lower=float("nan")), "its 30 % saving is not sure: too few days to tell"),
        ("keep", figures(improvement=0.5, lower=0.2, fp_rise=0.167), "its share of false alarms rose 17 points (1 allowed)"),
        ("keep", figures(improvement=0.5, lower=0.2, regressions=["INC-0002"]), "it missed INC-0002, which the champion caught"),
        ("keep", figures(improvement=-0.3, lower=-0.5, fp_rise=0.5), "the challenger cost 30 % more; its share of false alarms rose 50 points (1 allowed)"),
        ("promote", figures(improvement=0.41, lower=0.086),
         "the challenger cost 41 % less (at least 9 % with 95 % confidence), caught every incident the champion caught and raised no more false alarms"),
    ],
)
def test_why_names_the_conditions_that_decided(verdict, figs, why):
    assert why_words(verdict, figs, SETTINGS) == why


def test_why_without_figures_falls_back_to_the_rule_reason():
    assert why_words("keep", {}, SETTINGS, ["cost 0.0 % lower (≥ 5 % lower needed)"]) == "cost 0.0 % lower (≥ 5 % lower needed)"
    assert why_words("not_due", {}, SETTINGS) == ""


def test_words_for_policies_verdicts_triggers_and_drift():
    assert policy_words("weekly_or_drift") == "weekly or on drift" and policy_words("frozen") == "never (frozen)"
    assert verdict_words("keep") == "kept the champion" and verdict_words("not_enough_evidence") == "kept the champion (not enough evidence)"
    assert trigger_words("scheduled: the last retrain was 7 days ago (every 7D)") == "weekly schedule"
    assert trigger_words("drift acted: act: alert rate: 30 of 96 windows flagged") == "drift"
    assert trigger_words("no champion yet") == "first model"
    assert [drift_words(s) for s in ("ok", "warn", "act", None)] == ["none", "warning", "acting", "unknown"]


def result(service: str, verdict: str, day: str) -> RetrainResult:
    return RetrainResult(service, f"{day}T00:00:00+00:00", verdict, "scheduled")


FIRSTS = [result(s, "first", "2026-10-03") for s in ("search", "catalog", "checkout")]
MIGRATIONS = pd.DataFrame({
    "service": ["search", "catalog"],
    "at": pd.to_datetime(["2026-10-08T16:28Z", "2026-10-14T13:01Z"]),
    "description": ["migration of search to the new cluster", "migration of catalog to the new cluster"],
})


@pytest.mark.parametrize(
    ("policy", "results", "acting", "answer"),
    [
        ("weekly_or_drift",
         FIRSTS + [result("search", "promote", "2026-10-21"), result("catalog", "promote", "2026-10-23")] + [result("checkout", "keep", "2026-10-10")] * 24
         + [result("checkout", "not_enough_evidence", "2026-10-17"), result("checkout", "not_due", "2026-10-18")],
         [],
         "Over 4 weeks, retraining weekly or on drift promoted 2 new models (search and catalog, after their migrations) and kept the champion "
         "25 times (once for lack of labelled incidents); no service shows acting drift now."),
        ("weekly", FIRSTS + [result("checkout", "keep", "2026-10-10")], ["search"],
         "Over 4 weeks, retraining weekly promoted no new model and kept the champion once; drift acts now on search."),
        ("drift", FIRSTS + [result("checkout", "promote", "2026-10-10")], ["search", "catalog"],
         "Over 4 weeks, retraining on drift promoted 1 new model (checkout) and never kept the champion; drift acts now on catalog and search."),
        ("weekly", FIRSTS + [result("checkout", "not_enough_evidence", "2026-10-10")] * 2, [],
         "Over 4 weeks, retraining weekly promoted no new model and kept the champion twice (each time for lack of labelled incidents); "
         "no service shows acting drift now."),
        ("drift", FIRSTS + [result("checkout", "not_due", "2026-10-04")], [],
         "Over 4 weeks, retraining on drift was never due: every service kept its first model; no service shows acting drift now."),
        ("frozen", FIRSTS, [], "Over 4 weeks, with retraining frozen, every service kept its first model; no service shows acting drift now."),
        ("weekly", [], [], "Over 4 weeks, retraining weekly was never due: every service kept its first model; no service shows acting drift now."),
    ],
    ids=["sample", "drift-acting", "one-promotion", "no-evidence", "never-due", "frozen", "no-results"],
)
def test_the_answer_sentence_is_computed_from_the_decisions(policy, results, acting, answer):
    assert answer_sentence(policy, 28, results, MIGRATIONS, acting) == answer


def test_the_answer_counts_days_when_the_span_is_not_whole_weeks_and_names_one_migration():
    promoted = [result("search", "promote", "2026-10-21")]
    assert answer_sentence("weekly", 10, promoted, MIGRATIONS, []).startswith(
        "Over 10 days, retraining weekly promoted 1 new model (search, after its migration) and never kept"
    )
    before = [result("search", "promote", "2026-10-05")]  # promoted before its migration: no "after"
    assert "(search)" in answer_sentence("weekly", 14, before, MIGRATIONS, [])
