"""Score calibration (:mod:`workbench.detect.calibration`): tail probabilities that fall with the
score, keep falling past the training maximum, and refuse too few scores or no fit.

(tests/detect/test_forest.py also checks the tail's monotonicity and its inverse on
exponential scores.)
"""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from workbench.detect.calibration import TailCalibrator
from workbench.errors import DataError


@pytest.fixture(scope="module", params=["exponential", "normal", "uniform"])
def fitted(request):
    rng = np.random.default_rng(7)
    scores = {
        "exponential": lambda: rng.exponential(size=2000),
        "normal": lambda: rng.normal(size=2000),
        "uniform": lambda: rng.uniform(size=2000),
    }[request.param]()
    return TailCalibrator().fit(scores), scores


def test_probability_falls_as_the_score_grows(fitted):
    cal, scores = fitted
    grid = np.linspace(scores.min() - 1, scores.max(), 500)
    p = cal.tail_probability(grid)
    assert (np.diff(p) <= 1e-12).all()
    assert ((p > 0) & (p <= 1)).all()
    assert p[0] == pytest.approx(1.0, abs=1e-3)  # below everything seen: certain to be exceeded


def test_the_body_is_the_empirical_distribution(fitted):
    cal, scores = fitted
    median = np.median(scores)
    assert cal.tail_probability(np.array([median]))[0] == pytest.approx(0.5, abs=0.01)
    body = np.quantile(scores, 0.8)
    assert cal.tail_probability(np.array([body]))[0] == pytest.approx(0.2, abs=0.01)


def test_tail_takes_over_at_the_quantile_without_a_jump(fitted):
    cal, _ = fitted
    assert cal.threshold_ == pytest.approx(np.quantile(cal.sorted_, cal.tail_quantile))
    just = cal.tail_probability(np.array([cal.threshold_, cal.threshold_ + 1e-9]))
    assert just[1] == pytest.approx(1 - cal.tail_quantile, rel=1e-3)
    assert just[0] == pytest.approx(just[1], rel=0.05)


def test_probability_keeps_falling_beyond_the_training_maximum():
    scores = np.random.default_rng(3).exponential(size=1000)
    cal = TailCalibrator(min_shape=0.0).fit(scores)  # unbounded tail: anything can be exceeded
    top = scores.max()
    beyond = cal.tail_probability(np.array([top, top + 1, top + 2, top + 5, top + 10]))
    assert (np.diff(beyond) < 0).all()  # distinct and falling, not one floor value
    assert (beyond > 0).all()
    # The empirical distribution would give every score past the maximum one floor, 1/(n+1).
    assert beyond[-1] < 1e-3 * beyond[0] and beyond[-1] < 1e-3 / (len(scores) + 1)


def test_bounded_tail_floors_past_its_end_point():
    # Uniform scores have a bounded tail (negative shape): far past it, the floor, never 0 or negative.
    cal = TailCalibrator().fit(np.random.default_rng(5).uniform(size=2000))
    assert cal.shape_ < 0
    far = cal.tail_probability(np.array([cal.sorted_[-1] + 0.01, 10.0, 100.0]))
    assert (np.diff(far) <= 0).all() and (far >= 1e-300).all()
    assert far[-1] == 1e-300


@pytest.mark.parametrize("n", [0, 1, 19])
def test_needs_at_least_20_scores(n):
    with pytest.raises(DataError, match="at least 20 finite training scores"):
        TailCalibrator().fit(np.arange(n, dtype=float))


def test_twenty_scores_are_enough():
    cal = TailCalibrator().fit(np.arange(20, dtype=float))
    assert cal.sorted_.size == 20


def test_non_finite_scores_are_refused():
    scores = np.arange(50, dtype=float)
    scores[7] = np.nan
    with pytest.raises(DataError, match="finite"):
        TailCalibrator().fit(scores)
    scores[7] = np.inf
    with pytest.raises(DataError, match="finite"):
        TailCalibrator().fit(scores)


def test_a_bad_tail_quantile_is_refused():
    with pytest.raises(ValueError, match="tail_quantile"):
        TailCalibrator(tail_quantile=1.0).fit(np.arange(50, dtype=float))


def test_not_fitted():
    with pytest.raises(NotFittedError):
        TailCalibrator().tail_probability(np.array([1.0]))
    with pytest.raises(NotFittedError):
        TailCalibrator().inverse(0.01)
