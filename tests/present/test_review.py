"""08's words (:mod:`workbench.present.review`) on hand-made reviews: the answer, what moved in
which order, the similar incidents and the steps with their citations, and the abstention."""

from __future__ import annotations

import math

import pandas as pd

from workbench.contracts import CANONICAL_METRICS
from workbench.present.headline import ANSWER
from workbench.present.review import (
    abstention_words,
    moved_table,
    review_headline,
    similar_table,
    steps_table,
)
from workbench.runbooks.llm import Wording
from workbench.runbooks.signature import COLUMNS, Signature
from workbench.runbooks.similar import Match, Retrieval
from workbench.runbooks.suggest import Step

START = pd.Timestamp("2026-09-17 04:04", tz="UTC")


def squash(z: float) -> float:
    return math.copysign(math.log1p(abs(z) / 3), z)


def made(matches=(), nearest=None, steps=(), threshold=0.89, moved=None) -> object:
    vector = pd.Series(0.0, index=list(COLUMNS))
    for metric, (worst, mean, rank) in (moved or {}).items():
        vector[[f"{metric}_worst", f"{metric}_mean", f"{metric}_direction", f"{metric}_order"]] = [squash(worst), squash(mean), math.copysign(1, worst), 1 / rank]
    signature = Signature("checkout", START, START + pd.Timedelta(minutes=83), vector, id="INC-0007")
    nearest = tuple(matches) if nearest is None else tuple(nearest)
    abstained = not matches
    message = "the closest past incident is INC-0012" if matches else "no similar past incident: the closest is INC-0002, below the threshold 0.89"
    retrieval = Retrieval("INC-0007", "checkout", tuple(matches), nearest, threshold, abstained, message)
    from workbench.workflows.review import Review

    return Review(signature, retrieval, list(steps), Wording("", "retrieved", (), 0, "", tuple(steps)), {})


def match(incident_id, similarity, service="checkout", resolution="batch job killed"):
    return Match(incident_id, service, similarity, "night_cpu_saturation: runaway batch job", resolution, "night_cpu_saturation")


def test_the_answer_names_the_closest_incident_and_the_most_voted_step():
    steps = [Step("batch job killed", 1.9, ("INC-0012", "INC-0015")), Step("cpu limit added", 0.9, ("INC-0012",))]
    review = made([match("INC-0012", 0.96), match("INC-0015", 0.92)], steps=steps)
    headline = review_headline(review, "night_cpu_saturation: runaway batch job")
    assert headline[ANSWER] == (
        "INC-0007 on checkout (night cpu saturation, 83 minutes) looks most like INC-0012 on checkout (0.96 similar) "
        "and 1 other; the step most of them took: “batch job killed” (2 of 2)."
    )
    assert headline["started"] == "2026-09-17 04:04" and headline["similar past incidents"] == 2


def test_an_abstention_says_nothing_like_it_happened_and_suggests_nothing():
    review = made(nearest=[match("INC-0002", 0.86, service="payments")])
    answer = review_headline(review, "partial_outage: one shard unhealthy")[ANSWER]
    assert answer.startswith("Nothing like INC-0007 on checkout (partial outage, 83 minutes) has happened before")
    assert "INC-0002 on payments, is only 0.86 similar (the history needs 0.89)" in answer and answer.endswith("no steps to suggest.")
    assert similar_table(review).empty and steps_table(review).empty
    assert abstention_words(review) == "No similar past incident: the closest is INC-0002, below the threshold 0.89."


def test_an_empty_history_is_said_plainly():
    review = made(nearest=[], threshold=math.inf)
    assert "the log holds no other incident" in review_headline(review)[ANSWER]


def test_moved_metrics_come_first_mover_first_in_words():
    review = made(moved={"cpu_usage": (15.3, 13.9, 1), "latency_p95": (6.9, 5.5, 2), "request_rate": (-4.0, -3.1, 3)})
    table = moved_table(review)
    assert table.to_dict("list") == {
        "metric": ["CPU", "latency p95", "request rate"],
        "moved": ["first", "second", "third"],
        "at its worst": ["above its usual level (z +15.3)", "above its usual level (z +6.9)", "below its usual level (z -4.0)"],
        "on average": ["z +13.9", "z +5.5", "z -3.1"],
    }
    assert len(table) == 3 < len(CANONICAL_METRICS)  # the metrics that did not move are left out


def test_steps_cite_their_incidents_and_start_with_a_capital():
    review = made([match("INC-0012", 0.96)], steps=[Step("moved the job to the batch pool", 0.96, ("INC-0012", "INC-0030"))])
    assert steps_table(review).to_dict("records") == [{"step": "Moved the job to the batch pool", "votes (sum of similarities)": "0.96", "from": "INC-0012, INC-0030"}]
    assert similar_table(review).to_dict("records")[0]["similarity"] == "0.96"


def test_a_new_project_gets_a_plain_page_without_an_incident():
    from workbench.present.review import (
        NOTHING_YET,
        nothing_moved_words,
        review_scope,
        review_timeline,
    )

    assert review_headline(None)[ANSWER] == NOTHING_YET
    assert moved_table(None).empty and similar_table(None).empty and steps_table(None).empty
    assert abstention_words(None) == "No labelled incidents yet." and nothing_moved_words(None) == "No incident to look at yet."
    assert review_scope(None) is None
    fig = review_timeline(pd.DataFrame(), None)
    assert [t.get_text() for t in fig.axes[0].texts] == ["no incident to draw"]


def test_a_step_one_of_several_took_is_not_called_what_most_took():
    steps = [Step("restart pool", 0.9, ("INC-0012",)), Step("drain zone", 0.8, ("INC-0015",))]
    review = made([match("INC-0012", 0.9), match("INC-0015", 0.8), match("INC-0016", 0.7)], steps=steps)
    answer = review_headline(review, "night_cpu_saturation: runaway batch job")[ANSWER]
    assert answer.endswith("the strongest suggested step: “restart pool” (taken by 1 of 3).") and "most of them" not in answer
