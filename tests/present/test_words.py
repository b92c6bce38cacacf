"""Figures in words (:mod:`workbench.present.words`)."""

from __future__ import annotations

import math

import pytest

from workbench.present.words import (
    count,
    duration_words,
    join_words,
    metric_words,
    rarity,
    rarity_of_tail,
    share,
)


@pytest.mark.parametrize(
    "confidence, words",
    [
        (75.0, "once in 4 normal weeks"),  # the promise of the default alarm
        (99.0, "once in 100 normal weeks"),
        (99.7, "once in 333 normal weeks"),
        (99.9973, "once in 37,000 normal weeks"),
        (99.99999, "once in 10^7 normal weeks"),
        (100.0, "less than once in 10^16 normal weeks"),  # the tail lost to rounding
        (10.0, "most normal weeks"),
        (math.nan, "—"),  # a rule alone: no model verdict
    ],
)
def test_rarity(confidence, words):
    assert rarity(confidence) == words


def test_rarity_separates_what_the_confidence_shows_as_100():
    # All of these print as 100.0 with one decimal, the way the reports showed them.
    confidences = [99.96, 99.996, 99.9996, 99.99996]
    assert {f"{c:.1f}" for c in confidences} == {"100.0"}
    assert len({rarity(c) for c in confidences}) == len(confidences)


@pytest.mark.parametrize("n, words", [(0, "no incidents"), (1, "1 incident"), (30, "30 incidents"), (1200, "1,200 incidents")])
def test_count(n, words):
    assert count(n, "incident") == words


@pytest.mark.parametrize(
    "fraction, words",
    [(0.23, "23 %"), (0.004, "0.4 %"), (0.0, "0 %"), (1.0, "100 %"), (math.nan, "—"), (0.996, ">99 %"), (0.0004, "<0.1 %")],
)
def test_share(fraction, words):
    assert share(fraction) == words


@pytest.mark.parametrize(
    "log10_tail, words",
    [
        (0.0, "most normal weeks"),
        (-5.0, "once in 149 normal weeks"),  # 1 - (1 - 1e-5)^672
        (-8.0, "once in 150,000 normal weeks"),
        (-12.0, "once in 10^9 normal weeks"),
        (-40.0, "once in 10^37 normal weeks"),  # past where (1 - p)^n can be told from 1
        (-290.0, "once in 10^287 normal weeks"),
        (-300.0, "rarer than the model can measure (past every normal week it learnt from)"),  # the calibrator's floor
        (math.nan, "—"),
    ],
)
def test_rarity_of_tail(log10_tail, words):
    assert rarity_of_tail(log10_tail, 672) == words


def test_rarity_of_tail_ranks_alerts_whose_confidence_reads_100():
    tails = [-16.0, -20.0, -25.0, -40.0]
    words = [rarity_of_tail(t, 672) for t in tails]
    assert len(set(words)) == len(tails)
    assert rarity(100 * (1 - 672 * 10.0**-20)) == rarity(100.0)  # the confidence alone cannot tell them apart


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(1, "1 minute"), (100, "100 minutes"), (150, "2.5 hours"), (180, "3 hours"), (60 * 36, "36 hours"), (60 * 24 * 60, "60 days")],
)
def test_duration_words(minutes, words):
    assert duration_words(minutes) == words


@pytest.mark.parametrize(("items", "words"), [(["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")])
def test_join_words(items, words):
    assert join_words(items) == words


def test_metric_words():
    assert [metric_words(m) for m in ("latency_p95", "cpu_usage", "queue_depth")] == ["latency p95", "CPU", "queue depth"]
