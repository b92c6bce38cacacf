"""Calibration of raw anomaly scores to tail probabilities (:class:`TailCalibrator`).

The empirical distribution of the training scores, with a generalised Pareto tail
fitted beyond ``tail_quantile`` so probabilities extrapolate past the training range.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from workbench.errors import DataError, ParameterError

__all__ = ["FLOOR", "TailCalibrator"]

#: The smallest tail probability reported: a score beyond a bounded tail's end point, rarer
#: than the calibration can measure (words say so rather than "once in 10^297 weeks").
FLOOR = 1e-300


class TailCalibrator(BaseEstimator):
    """Tail probability of an abnormality score against its training distribution.

    Empirical in the body; beyond the ``tail_quantile`` of the training scores a
    generalised Pareto tail is fitted to the excesses (peaks over threshold, as in
    SPOT, Siffer et al. 2017), so scores more extreme than anything seen in training
    still get distinct, falling probabilities instead of one floor value. A bounded
    tail (negative shape) gives probability 0 beyond its end point, floored at :data:`FLOOR`
    (beyond what the calibration can measure); a score within the training range never gets
    less than ``1 / (n + 1)``, wherever the fitted tail ends.

    Parameters
    ----------
    tail_quantile : float
        Where the fitted tail takes over from the empirical distribution.
    min_shape : float
        Lowest tail shape allowed. Negative shapes are bounded tails (right for forest
        scores, which cannot exceed a limit); 0 keeps the tail unbounded (exponential or
        heavier), right for magnitudes such as |z| that can always grow, where a bounded
        fit would call anything past its end point impossible.
    """

    def __init__(self, tail_quantile: float = 0.95, min_shape: float = -0.5):
        self.tail_quantile = tail_quantile
        self.min_shape = min_shape

    def fit(self, abnormality, y=None):
        """Learn the distribution of training abnormality (higher = more abnormal)."""
        a = np.sort(np.asarray(abnormality, dtype=float).ravel())
        if a.size < 20 or not np.isfinite(a).all():
            raise DataError(f"calibration needs at least 20 finite training scores, got {a.size}")
        if not 0.5 <= self.tail_quantile < 1:
            raise ParameterError(f"tail_quantile must be in [0.5, 1), got {self.tail_quantile}")
        self.sorted_ = a
        self.threshold_ = float(np.quantile(a, self.tail_quantile))
        excess = a[a > self.threshold_] - self.threshold_
        spread = float(np.std(a)) or 1.0
        mean = float(excess.mean()) if excess.size else 1e-3 * spread
        var = float(excess.var()) if excess.size > 2 else 0.0
        # Generalised Pareto tail by the method of moments (robust for ~100 excesses);
        # the shape is kept in [-0.5, 0.5]: bounded tails (forest scores) to heavy ones.
        shape = 0.5 * (1 - mean**2 / var) if var > 0 else 0.0
        self.shape_ = float(np.clip(shape, self.min_shape, 0.5))
        self.scale_ = max(mean * (1 - self.shape_), 1e-9 * spread)
        return self

    def tail_probability(self, abnormality) -> np.ndarray:
        """P(a training score is at least this abnormal), in (0, 1]."""
        check_is_fitted(self, "sorted_")
        a = np.asarray(abnormality, dtype=float)
        n = self.sorted_.size
        p = 1.0 - np.searchsorted(self.sorted_, a, side="left") / (n + 1.0)
        tail = a > self.threshold_
        p[tail] = (1 - self.tail_quantile) * self._survival(a[tail] - self.threshold_)
        # A score no more abnormal than the largest training score is never rarer than one in
        # n + 1: a bounded fit can end below that score and would call it impossible (a page
        # at confidence 100 for a window the training month had already seen).
        seen = tail & (a <= self.sorted_[-1])
        p[seen] = np.maximum(p[seen], 1.0 / (n + 1.0))
        return np.clip(p, FLOOR, 1.0)

    def _survival(self, excess: np.ndarray) -> np.ndarray:
        if abs(self.shape_) < 1e-9:
            return np.exp(-excess / self.scale_)
        base = np.maximum(1 + self.shape_ * excess / self.scale_, 0.0)
        return np.power(base, -1 / self.shape_, where=base > 0, out=np.zeros_like(base))

    def inverse(self, probability: float) -> float:
        """The abnormality whose tail probability is ``probability`` (for thresholds).

        Below ``1 / (n + 1)`` no training score qualifies (see :meth:`tail_probability`):
        the answer is then past the largest training score, where the probability is at
        most ``probability``.
        """
        check_is_fitted(self, "sorted_")
        q = 1 - self.tail_quantile
        if probability <= q:
            ratio = probability / q
            if abs(self.shape_) < 1e-9:
                score = self.threshold_ - self.scale_ * np.log(ratio)
            else:
                score = self.threshold_ + self.scale_ / self.shape_ * (ratio ** (-self.shape_) - 1)
            if probability < 1.0 / (self.sorted_.size + 1.0):
                score = max(score, float(np.nextafter(self.sorted_[-1], np.inf)))
            return float(score)
        return float(np.quantile(self.sorted_, 1 - probability))
