"""The Isolation Forest detector, its extreme-value voices, and its confidence.

Scores, in scikit-learn's three levels (lower = more abnormal throughout):

* ``score_samples``: log10 of the calibrated tail probability (forest and extreme-value
  voices combined; see :class:`IsolationForestDetector`);
* ``decision_function``: ``score_samples - offset_``; negative means anomalous;
* ``predict``: ``-1`` anomalous, ``1`` normal.

``confidence`` (0-100, higher = more abnormal) is calibrated: it is the probability
that a normal *period* (``confidence_period`` rows, a week of 15-minute windows by
default) contains no window as abnormal as this one, where the per-window tail
probability comes from the training scores (see :class:`TailCalibrator`). So a
confidence of 75 means a normal week of this service shows a window this unusual
one time in four; 99 means one week in a hundred. Measured (``benchmarks/bench_calibration.py``,
RESULTS.md; 40 training months of 3,000 rows each, 200 trees, seeds never tuned on): at 75, the
mean alarm rate is 0.95-1.3 times the promise on Gaussian, Laplace and log-normal data and 1.5
times on Student-t 3 data, and one training month differs from the next by about 0.35x to 3x
(10th to 90th percentile), because the alarm sits at a per-window tail probability of 4e-4,
extrapolated from a few hundred tail scores.
A very normal window has a
confidence near 0, unlike ``abs(decision_function) * 100``. ``offset_`` is the
score at which the confidence reaches ``alarm_confidence``, so ``predict`` and the
confidence agree.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.ensemble import IsolationForest
from sklearn.utils.validation import check_is_fitted, validate_data

from workbench.contracts import Side
from workbench.detect.base import ScoreDirection
from workbench.detect.calibration import TailCalibrator
from workbench.errors import DataError, ParameterError

__all__ = ["IsolationForestDetector"]

#: Lowest tail shape of the forest's calibrated abnormality. Forest scores are bounded, but a
#: moment fit of 150 excesses often says "more bounded" than the scores are: extrapolated 100x
#: past the fitted threshold, such a tail puts the alarm at its end point, and fresh normal
#: windows overshoot it (skewed data fired about twice as often as promised at -0.5). Chosen
#: on bench_calibration's development seeds, reported on seeds never tuned on (RESULTS.md).
FOREST_MIN_SHAPE = -0.3


class IsolationForestDetector(OutlierMixin, BaseEstimator):
    """Isolation Forest with calibrated confidence and extreme-value voices; scikit-learn API.

    A forest only splits inside the range it was trained on, so a window far beyond
    every training window is isolated no faster than the most extreme training
    window. Columns named in ``extreme_features`` therefore get their own calibrated
    tail of their bad-side magnitude, which extrapolates past the training range; one
    tail per column, because metrics differ in how heavy their tails are (error rates
    blip; CPU over what traffic explains hardly moves). The forest and those voices are combined
    Bonferroni-style: ``p = min(1, (1 + J) * min(p_forest, p_1, ..., p_J))``.

    Parameters
    ----------
    n_estimators, max_samples, max_features
        As :class:`sklearn.ensemble.IsolationForest`.
    extreme_features : dict of {str: "high" | "low" | "both"}, list of str, or None
        Column names (X must be a DataFrame) with their own tail voice, and which side
        of each is abnormal (a list means both sides).
    alarm_confidence : float
        Confidence (0-100) at and above which ``predict`` says anomalous.
    confidence_period : int
        Rows per calibration period (672 = one week of 15-minute windows).
    tail_quantile : float
        Passed to :class:`TailCalibrator`.
    random_state : int, RandomState or None
        Seed of the forest.

    Attributes
    ----------
    forest_ : IsolationForest
    calibrator_ : TailCalibrator
        Of the forest's abnormality (``-forest_.score_samples``).
    extreme_calibrators_ : dict of TailCalibrator
    offset_ : float
        ``score_samples`` value at which the confidence equals ``alarm_confidence``.
    """

    #: scikit-learn's convention: :meth:`score_samples` is a log10 tail probability.
    score_direction = ScoreDirection.LOWER_IS_ABNORMAL

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: int | str = "auto",
        max_features: float = 1.0,
        extreme_features: list[str] | None = None,
        alarm_confidence: float = 75.0,
        confidence_period: int = 672,
        tail_quantile: float = 0.95,
        random_state=None,
    ):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.extreme_features = extreme_features
        self.alarm_confidence = alarm_confidence
        self.confidence_period = confidence_period
        self.tail_quantile = tail_quantile
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit the forest on normal rows (incident periods already removed) and calibrate.

        Raises
        ------
        DataError
            Fewer than 50 rows, NaN/infinite values, or an unknown extreme feature.
        """
        columns = list(X.columns) if hasattr(X, "columns") else None
        X = self._check(X, reset=True)
        if X.shape[0] < 50:
            raise DataError(f"need at least 50 training rows to fit, got {X.shape[0]} sample{'' if X.shape[0] == 1 else 's'}")
        if not 0 < self.alarm_confidence < 100:
            raise ParameterError(f"alarm_confidence must be in (0, 100), got {self.alarm_confidence}")
        if self.confidence_period < 1:
            raise ParameterError(f"confidence_period must be at least 1, got {self.confidence_period}")
        sides = self.extreme_features or {}
        if not isinstance(sides, dict):
            sides = dict.fromkeys(sides, Side.BOTH)
        bad_sides = sorted({str(s) for s in sides.values()} - {s.value for s in Side})
        if bad_sides:
            raise ParameterError(f"extreme feature sides must be high, low or both; got {bad_sides}")
        extreme = list(sides)
        missing = [c for c in extreme if columns is None or c not in columns]
        if missing:
            raise DataError(f"extreme features {missing} are not columns of the training frame")
        self.extreme_sides_ = {columns.index(c): Side(sides[c]) for c in extreme}
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            max_features=self.max_features,
            random_state=self.random_state,
        ).fit(X)
        self.calibrator_ = TailCalibrator(self.tail_quantile, min_shape=FOREST_MIN_SHAPE).fit(-self.forest_.score_samples(X))
        self.extreme_calibrators_ = {
            j: TailCalibrator(self.tail_quantile, min_shape=0.0).fit(self._magnitude(X, j)) for j in self.extreme_sides_
        }
        # Confidence c = 100 (1 - p)^period, so the per-row tail probability at the alarm is:
        p_alarm = 1.0 - (self.alarm_confidence / 100.0) ** (1.0 / self.confidence_period)
        self.offset_ = float(np.log10(p_alarm))
        return self

    def _check(self, X, reset: bool):
        try:
            return validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=True)
        except ValueError as exc:
            raise DataError(f"detector input: {exc}") from None

    def _magnitude(self, X: np.ndarray, j: int) -> np.ndarray:
        return self.extreme_sides_[j].magnitude(X[:, j])

    def _tail(self, X: np.ndarray, forest_raw: np.ndarray) -> np.ndarray:
        p = self.calibrator_.tail_probability(-forest_raw)
        for j, calibrator in self.extreme_calibrators_.items():
            p = np.minimum(p, calibrator.tail_probability(self._magnitude(X, j)))
        return np.minimum(1.0, (1 + len(self.extreme_calibrators_)) * p)

    def score_samples(self, X) -> np.ndarray:
        """log10 of the calibrated tail probability per row; lower = more abnormal.

        0 is as normal as can be; -4 means one training window in 10,000 was this
        abnormal (extrapolated beyond the training range by the fitted tails).
        """
        check_is_fitted(self, "forest_")
        X = self._check(X, reset=False)
        return np.log10(self._tail(X, self.forest_.score_samples(X)))

    def decision_function(self, X) -> np.ndarray:
        """``score_samples - offset_``: negative = anomalous at ``alarm_confidence``."""
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        """``-1`` for anomalous rows (confidence at or above ``alarm_confidence``), else ``1``."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def tail_probability(self, X) -> np.ndarray:
        """Per-row probability that a normal row is at least this abnormal."""
        return 10.0 ** self.score_samples(X)

    def confidence(self, X) -> np.ndarray:
        """Calibrated confidence 0-100 per row that the row is anomalous (see the module notes)."""
        return self.confidence_from_scores(self.score_samples(X))

    def confidence_from_scores(self, raw: np.ndarray) -> np.ndarray:
        """The confidence for scores already computed with :meth:`score_samples`.

        Lets a caller that needs both pay for one pass through the forest.
        """
        check_is_fitted(self, "calibrator_")
        p = 10.0 ** np.asarray(raw, dtype=float)
        # (1 - p)^period computed in log space: p is tiny for the rows that matter.
        return 100.0 * np.exp(self.confidence_period * np.log1p(-np.minimum(p, 1 - 1e-12)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
