"""The abstention threshold: leave-one-out pairs and the balanced-accuracy choice, on small known cases."""

import math

import numpy as np
import pytest

from workbench.runbooks.calibrate import Calibration, best_threshold, calibrate, pairs


@pytest.mark.parametrize(
    ("sims", "positive", "threshold", "accuracy"),
    [
        # Separable: halfway between the best other-kind pair and the worst same-kind pair.
        ([0.9, 0.8, 0.3, 0.2], [True, True, False, False], 0.55, 1.0),
        # One other-kind pair among five same-kind ones weighs as much as all five: reject it.
        ([0.95, 0.9, 0.85, 0.8, 0.7, 0.92], [True, True, True, True, True, False], 0.935, 0.6),
        # Equal balanced accuracy at 0.5 and at 0.75: the lower threshold answers more often.
        ([0.8, 0.7, 0.6, 0.4], [True, False, True, False], 0.5, 0.75),
    ],
)
def test_the_threshold_maximises_balanced_accuracy(sims, positive, threshold, accuracy):
    got, score = best_threshold(np.array(sims), np.array(positive))
    assert got == pytest.approx(threshold) and score == pytest.approx(accuracy)


def test_with_one_label_there_is_nothing_to_balance():
    assert best_threshold(np.array([0.9, 0.5]), np.array([True, True])) == (pytest.approx(0.5 - 1e-6), None)
    assert best_threshold(np.array([0.9, 0.5]), np.array([False, False])) == (math.inf, None)


# Two kinds in two directions; "c" has a single incident of its kind.
VECTORS = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.1, 0.9, 0.0], [0.7, 0.7, 0.1]])
KINDS = np.array(["a", "a", "b", "b", "c"], dtype=object)
SERVICES = np.array(["x", "y", "x", "y", "x"], dtype=object)
IDS = np.array(["I1", "I2", "I3", "I4", "I5"], dtype=object)


def cos(i, j):
    a, b = VECTORS[i], VECTORS[j]
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_novel_pairs_are_each_incidents_nearest_of_its_kind_and_of_another():
    sims, positive = pairs(VECTORS, KINDS, SERVICES, IDS, Calibration.NOVEL)
    same = sorted(sims[positive])
    other = sorted(sims[~positive])
    # I5 has no other incident of its kind: it gives only an other-kind pair.
    assert same == pytest.approx(sorted([cos(0, 1), cos(0, 1), cos(2, 3), cos(2, 3)]))
    assert other == pytest.approx(sorted([cos(0, 4), cos(1, 4), cos(2, 4), cos(3, 4), max(cos(4, j) for j in range(4))]))


def test_nearest_pairs_label_each_incidents_nearest_other():
    sims, positive = pairs(VECTORS, KINDS, SERVICES, IDS, Calibration.NEAREST)
    assert len(sims) == 5
    assert positive.tolist() == [True, True, True, True, False]  # in order of the rows; I5's nearest is another kind


def test_nearest_ties_prefer_the_same_service_then_the_lowest_id():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    kinds = np.array(["a", "b", "a", "b"], dtype=object)
    # I1's nearest is a tie of I2 (kind b, service y) and I3 (kind a, service y): the lower id, I2, wins.
    _, positive = pairs(vectors, kinds, np.array(["x", "y", "y", "y"], dtype=object), np.array(["I1", "I2", "I3", "I4"], dtype=object), Calibration.NEAREST)
    assert not positive[0]
    # With I3 on I1's service, I3 wins the tie: same kind.
    _, positive = pairs(vectors, kinds, np.array(["x", "y", "x", "y"], dtype=object), np.array(["I1", "I2", "I3", "I4"], dtype=object), Calibration.NEAREST)
    assert positive[0]


def test_incidents_of_unknown_kind_neither_ask_nor_count():
    kinds = np.array(["a", "", "b", "b", "c"], dtype=object)
    sims, positive = pairs(VECTORS, kinds, SERVICES, IDS, Calibration.NOVEL)
    assert positive.sum() == 2  # only b's two incidents find a same-kind pair; I1 has no other a
    assert not np.isclose(sims[~positive], cos(0, 1)).any()  # I2 is no "other kind" for I1


def test_a_history_that_cannot_show_a_match_abstains_always_and_says_why():
    threshold, record = calibrate(VECTORS, np.array(["a", "b", "c", "d", "e"], dtype=object), SERVICES, IDS, Calibration.NOVEL)
    assert threshold == math.inf and "no two past incidents share a kind" in record["reason"]
    threshold, record = calibrate(VECTORS, np.array(["a", "", "", "", ""], dtype=object), SERVICES, IDS, Calibration.NOVEL)
    assert threshold == math.inf and "fewer than two" in record["reason"]


def test_a_calibrated_threshold_separates_the_kinds():
    threshold, record = calibrate(VECTORS, KINDS, SERVICES, IDS, Calibration.NOVEL)
    assert max(cos(1, 4), cos(3, 4)) < threshold < min(cos(0, 1), cos(2, 3))
    assert record["balanced_accuracy"] == 1.0 and record["pairs"] == 9 and record["same_kind_pairs"] == 4
