import numpy as np
import pytest
from sklearn.base import clone

from workbench.detect.calibration import FLOOR, TailCalibrator
from workbench.detect.forest import IsolationForestDetector
from workbench.errors import DataError


@pytest.fixture(scope="session")
def fitted():
    rng = np.random.default_rng(0)
    return IsolationForestDetector(random_state=0).fit(rng.laplace(size=(3000, 4)))


def test_sklearn_conventions():
    d = IsolationForestDetector(n_estimators=10, random_state=1)
    assert not [k for k in vars(d) if k.endswith("_")]  # __init__ stores arguments only
    assert clone(d).get_params() == d.get_params()
    rng = np.random.default_rng(0)
    fitted = d.fit(rng.normal(size=(200, 3)))
    assert fitted is d and hasattr(d, "forest_") and hasattr(d, "offset_") and d.n_features_in_ == 3


def test_three_score_levels_agree(fitted):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.laplace(size=(500, 4)), np.full((3, 4), 12.0)])
    raw, decision, label = fitted.score_samples(X), fitted.decision_function(X), fitted.predict(X)
    assert np.allclose(decision, raw - fitted.offset_)
    assert ((decision < 0) == (label == -1)).all()
    assert ((fitted.confidence(X) >= fitted.alarm_confidence) == (label == -1)).all()
    assert (label[-3:] == -1).all()  # far outliers are anomalous
    assert fitted.confidence(X[-3:]).min() > 99


def test_confidence_is_low_for_normal_rows_unlike_abs_decision(fitted):
    rng = np.random.default_rng(2)
    X = rng.laplace(size=(2000, 4)) * 0.1  # very normal: near the centre
    assert np.median(fitted.confidence(X)) < 1
    assert np.median(np.abs(fitted.decision_function(X)) * 100) > 10  # the naive "confidence" is large


#: Normal data of four shapes (issue 16): Gaussian, heavy-tailed (Laplace, Student-t 3), skewed.
DRAWS = {
    "gaussian": lambda rng, size: rng.normal(size=size),
    "laplace": lambda rng, size: rng.laplace(size=size),
    "student-t 3": lambda rng, size: rng.standard_t(3, size=size),
    "log-normal": lambda rng, size: rng.lognormal(0.0, 0.75, size=size),
}


@pytest.mark.parametrize("distribution", list(DRAWS))
def test_alarm_rate_keeps_the_promise_within_one_and_a_half_times(distribution):
    """Confidence 75 promises -ln(0.75) = 0.29 alarms per normal period of 672 rows.

    The mean over ten training draws (a month of windows each, the service model's 200 trees)
    is within 1.5x of it on every shape. A guard, not the measurement: one draw alone can be
    0.35x-3x off (the alarm sits at a tail probability of 4e-4, extrapolated from 3,000 rows),
    so ten draws' mean is good to about +-0.35; the benchmark (benchmarks/bench_calibration.py,
    40 draws) measures Student-t 3 at about 1.5. Seeds 5000-5009 are used by nothing else. It
    fails at the old tail shape floor (-0.5): log-normal 1.85.
    """
    draw = DRAWS[distribution]
    ratios = []
    for seed in range(5000, 5010):
        rng = np.random.default_rng(seed)
        d = IsolationForestDetector(n_estimators=200, alarm_confidence=75.0, random_state=seed).fit(draw(rng, (3000, 4)))
        ratios.append((d.predict(draw(rng, (50_000, 4))) == -1).mean() * 672 / -np.log(0.75))
    assert 1 / 1.5 <= np.mean(ratios) <= 1.5, f"{distribution}: alarms over promise per draw {np.round(ratios, 2)}"


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((10, 3)), "at least 50 training rows"),
        (np.full((100, 2), np.nan), "NaN"),
        (np.full((100, 2), np.inf), "infinity"),
    ],
)
def test_bad_training_data(X, message):
    with pytest.raises(DataError, match=message):
        IsolationForestDetector().fit(X)


def test_constant_training_data_is_handled():
    d = IsolationForestDetector(random_state=0).fit(np.ones((100, 2)))
    assert d.predict(np.ones((1, 2)))[0] == 1
    assert np.isfinite(d.confidence(np.array([[5.0, 5.0]]))).all()


def test_wrong_width_at_scoring(fitted):
    with pytest.raises(DataError, match="features"):
        fitted.predict(np.zeros((2, 3)))


def test_tail_calibrator_tail_is_monotone_and_invertible():
    cal = TailCalibrator().fit(np.random.default_rng(4).exponential(size=5000))
    a = np.linspace(0, 20, 200)
    p = cal.tail_probability(a)
    assert (np.diff(p) <= 1e-12).all() and p[0] == pytest.approx(1.0, abs=1e-3)
    for prob in (1e-2, 1e-6):
        assert cal.tail_probability(np.array([cal.inverse(prob)]))[0] == pytest.approx(prob, rel=1e-6)
    # Below one in n + 1 no training score qualifies: the answer lies past the largest one.
    assert cal.inverse(1e-4) > cal.sorted_[-1] and cal.tail_probability(np.array([cal.inverse(1e-4)]))[0] <= 1e-4
    assert abs(cal.shape_) < 0.2  # exponential data: shape near 0
    with pytest.raises(DataError):
        TailCalibrator().fit(np.ones(5))


def test_no_score_seen_in_training_is_called_impossible():
    """A bounded fit can end below the largest training score; that score is still once in n + 1."""
    rng = np.random.default_rng(8)
    # Excesses spread evenly over one unit, then one training score twice as far out: the
    # moment fit calls the tail bounded and ends it before that score.
    scores = np.concatenate([rng.uniform(0, 1, 2850), 1 + rng.uniform(0, 1, 149), [3.0]])
    cal = TailCalibrator().fit(scores)
    end = cal.threshold_ + cal.scale_ / -cal.shape_
    top = cal.sorted_[-1]
    assert cal.shape_ < 0 and end < top, "this draw must end its fitted tail inside the training range"
    p = cal.tail_probability(np.array([end, (end + top) / 2, top, top + 1.0]))
    assert (p[:3] >= 1 / 3001).all() and p[3] == FLOOR
    assert (np.diff(cal.tail_probability(np.linspace(cal.threshold_, top + 1, 500))) <= 1e-12).all()  # still monotone
