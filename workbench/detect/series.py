"""Causal anomaly scores for one series: robust voices, a likelihood layer, suppression.

Used for single metric streams (``workbench nab detect``). Scores are
:class:`SeriesDetector`'s ``score_samples``, in [0, 1], higher = more abnormal
(:attr:`~workbench.detect.base.ScoreDirection.HIGHER_IS_ABNORMAL`, as in river).
A score at row ``t`` uses only rows up to ``t``: every statistic is a trailing
window shifted past the current row, and the sampling step is read from the
first rows only.

The stages, each a function below:

1. **Voices**, robust z-scores of the current value against a trailing median and
   MAD (``history`` rows): the level, the change from the previous row, and (once
   three weeks of history exist) the change against the same time a week earlier.
   Optionally a fourth voice: an :class:`~workbench.detect.forest.IsolationForestDetector`
   over the three z-scores, retrained daily on the trailing rows.
2. **Likelihood** per voice (Numenta's anomaly likelihood): the mean of the last
   ``short`` z-scores against the mean and spread of the last ``long`` ones, as a
   Gaussian tail probability. A lasting shift scores high; a lone spike less so.
3. **New range**: a value beyond everything seen so far (by ``margin`` of the range
   seen) scores 0.99999, whatever the voices say.
4. **Suppression**: after a score reaches ``alarm``, the next ``suppress`` rows are
   halved, so one event raises one alarm.

Measured on the NAB corpus (``benchmarks/RESULTS.md``): the forest voice lowered the
score there, so it is off by default for single series; on multivariate service
windows the forest is the main detector.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from workbench._util import MAD_TO_SIGMA
from workbench.detect.base import ScoreDirection
from workbench.detect.forest import IsolationForestDetector
from workbench.errors import DataError, ParameterError

__all__ = ["SeriesDetector", "likelihood", "new_range", "robust_z", "suppress_repeats"]


def robust_z(values: pd.Series, history: int, min_history: int) -> pd.Series:
    """|value - trailing median| / (MAD_TO_SIGMA * MAD), from the previous ``history`` rows; capped at 50.

    NaN until it is defined: the median needs ``min_history`` rows, the MAD half as many
    deviations from it (at least 2). The scale has a floor of 0.1 % of the mean absolute level seen
    so far, so a flat stretch does not turn the first wiggle into an infinite z-score.
    """
    median = values.rolling(history, min_periods=min_history).median().shift(1)
    mad = (values - median).abs().rolling(history, min_periods=_half(min_history)).median().shift(1)
    floor = 1e-3 * values.abs().expanding().mean().shift(1) + 1e-9
    return ((values - median).abs() / np.maximum(MAD_TO_SIGMA * mad, floor)).clip(upper=50.0)


def likelihood(raw: pd.Series | np.ndarray, short: int, long: int, min_history: int) -> np.ndarray:
    """Gaussian tail probability of the recent mean of ``raw`` against its longer history.

    NaN rows of ``raw`` (a voice still warming up) are left out of both means; the
    likelihood is 0 until the history holds half ``min_history`` defined values (at least 2). (Counting
    warm-up rows as zeros made the first real value look infinitely unusual against a
    history of zeros: every series alarmed at row ``2 * min_history``, then stayed
    oversensitive for ``long`` rows.)
    """
    r = pd.Series(np.asarray(raw, dtype=float))
    recent = r.rolling(short, min_periods=1).mean()
    history = r.rolling(long, min_periods=_half(min_history))
    mean, spread = history.mean().shift(short), history.std().shift(short)
    return np.array(norm.cdf(((recent - mean) / np.maximum(spread, 1e-6)).fillna(-np.inf)), dtype=float)


def _half(min_history: int) -> int:
    """Defined values a warming-up stage waits for: half the minimum history, at least 2."""
    return max(2, min_history // 2)


def new_range(values: pd.Series, margin: float, min_history: int) -> np.ndarray:
    """True where a value lies beyond the whole range seen before it (by ``margin`` of that range)."""
    high = values.expanding().max().shift(1)
    low = values.expanding().min().shift(1)
    span = high - low
    flag = ((values > high + margin * span) | (values < low - margin * span)).fillna(False).to_numpy(dtype=bool).copy()
    flag[:min_history] = False
    return flag


def suppress_repeats(scores: np.ndarray, alarm: float, rows: int, damp: float = 0.5) -> np.ndarray:
    """After a score reaches ``alarm``, multiply the next ``rows`` scores by ``damp``.

    A separate stage after scoring: the detector says how unusual each row is;
    this decides that one event is one alarm.
    """
    out = np.array(scores, dtype=float, copy=True)
    last = -(rows + 1)
    for i in range(len(out)):
        if i - last <= rows:
            out[i] *= damp
        elif out[i] >= alarm:
            last = i
    return out


def _one_series(X) -> pd.Series:
    """The values of a one-column ``X`` as a float Series with a fresh 0..n-1 index."""
    try:
        values = np.asarray(X, dtype=float)
    except (ValueError, TypeError) as exc:
        raise DataError(f"the series must be numbers: {exc}") from None
    if values.ndim != 2 or values.shape[1] != 1:
        raise DataError(f"one series: X must have shape (n_samples, 1), got {values.shape}")
    return pd.Series(values[:, 0])


class SeriesDetector(BaseEstimator):
    """Causal anomaly scores in [0, 1] for one series (higher = more abnormal, as in river).

    ``fit`` learns nothing from the data: every baseline is a trailing window of the
    stream being scored, so :meth:`score_samples` scores the rows it is given as one
    stream, each row against the rows before it.

    Parameters
    ----------
    history : int
        Rows in the trailing median/MAD baseline (2016 = a week of 5-minute samples).
    min_history : int
        Rows before the new-range flag can speak. The voices speak after about twice as
        many: a median of ``min_history`` rows, a MAD of half as many deviations from it,
        then a likelihood history of half as many z-scores.
    short, long : int
        Rows of the likelihood layer's recent mean and of its reference history.
    alarm : float
        Score that counts as an alarm for suppression.
    suppress : int
        Rows damped after an alarm.
    margin : float
        Share of the range seen so far that a value must exceed to count as new range.
    forest_voice : bool
        Add the Isolation Forest over the voices (retrained daily on the past).
    random_state : int or None
        Seed of the forest voice.

    Attributes
    ----------
    n_features_in_ : int
        Always 1: one series.
    """

    #: :meth:`score_samples` is a probability-like score: 0 normal, 1 as abnormal as can be.
    score_direction = ScoreDirection.HIGHER_IS_ABNORMAL

    def __init__(
        self,
        history: int = 2016,
        min_history: int = 100,
        short: int = 5,
        long: int = 576,
        alarm: float = 0.9999,
        suppress: int = 36,
        margin: float = 0.02,
        forest_voice: bool = False,
        random_state: int | None = 0,
    ):
        self.history = history
        self.min_history = min_history
        self.short = short
        self.long = long
        self.alarm = alarm
        self.suppress = suppress
        self.margin = margin
        self.forest_voice = forest_voice
        self.random_state = random_state

    def fit(self, X, y=None) -> SeriesDetector:
        """Check the parameters and that ``X`` is one series; learns nothing from its values.

        Raises
        ------
        ParameterError
            A window length below 1, a negative ``suppress`` or ``margin``, or an
            ``alarm`` outside (0, 1].
        DataError
            ``X`` is not one column of numbers.
        """
        for name in ("history", "min_history", "short", "long"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be at least 1 row, got {getattr(self, name)}")
        if self.suppress < 0 or self.margin < 0:
            raise ParameterError(f"suppress and margin must be non-negative, got {self.suppress} and {self.margin}")
        if not 0 < self.alarm <= 1:
            raise ParameterError(f"alarm is a score in (0, 1], got {self.alarm}")
        _one_series(X)
        self.n_features_in_ = 1
        return self

    def score_samples(self, X, timestamps=None) -> np.ndarray:
        """Score every row of one series, causally; higher = more abnormal, in [0, 1].

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
            The series, rows in stream order; NaN rows score 0 and do not move the baselines.
        timestamps : sequence of times, optional
            Sample times, one per row; by default ``X``'s index if it is a
            :class:`~pandas.DatetimeIndex`, else none. They only set the weekly lag
            (from the median step of the first rows), so a clock jump or a repeated
            timestamp in real data does not stop scoring; without them there is no
            weekly voice.

        Raises
        ------
        DataError
            ``X`` is not one column of numbers, lengths differ, a timestamp does not
            parse, or no value is finite.
        """
        check_is_fitted(self, "n_features_in_")
        s = _one_series(X)
        if timestamps is None and isinstance(getattr(X, "index", None), pd.DatetimeIndex):
            timestamps = X.index
        ts = None
        if timestamps is not None:
            try:
                ts = pd.to_datetime(pd.Series(timestamps), format="mixed").reset_index(drop=True)
            except (ValueError, TypeError) as exc:
                raise DataError(f"timestamps: {exc}") from None
            if len(ts) != len(s):
                raise DataError(f"{len(ts)} timestamps for {len(s)} values")
        if s.notna().sum() == 0:
            raise DataError("the series has no finite values")
        z = [robust_z(s, self.history, self.min_history), robust_z(s.diff(), self.history, self.min_history)]
        voices = [likelihood(v, self.short, self.long, self.min_history) for v in z]
        week = self._rows_per_week(ts) if ts is not None else None
        if week is not None:
            weekly = robust_z(s - s.shift(week), self.history, self.min_history)
            z.append(weekly)
            voice = likelihood(weekly, self.short, self.long, self.min_history)
            # The weekly voice speaks once three weeks are known; before that it is silent
            # (0, not the likelihood's neutral 0.5), whatever the series' length.
            voice[: 3 * week] = 0.0
            voices.append(voice)
        if self.forest_voice:
            voices.append(self._forest(np.column_stack([v.to_numpy() for v in z]), week))
        score = np.max(voices, axis=0)
        score = np.where(new_range(s, self.margin, self.min_history), np.maximum(score, 0.99999), score)
        score = np.where(s.isna().to_numpy(), 0.0, score)
        return suppress_repeats(score, self.alarm, self.suppress)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing sample scores 0; the stream goes on
        return tags

    def _rows_per_week(self, ts: pd.Series) -> int | None:
        head = ts.iloc[: max(self.min_history, 2)].diff().dropna()
        if head.empty or head.median() <= pd.Timedelta(0):
            return None
        return int(round(pd.Timedelta(days=7) / head.median()))

    def _forest(self, X: np.ndarray, week: int | None) -> np.ndarray:
        week = week or 7 * 288
        day = max(1, week // 7)
        n = len(X)
        # A row is known once the level and change voices are (the weekly one is 0 until it speaks);
        # rows still warming up are neither learnt from nor scored, as in the other voices.
        known = np.isfinite(X[:, :2]).all(axis=1)
        X = np.nan_to_num(X)
        surprise = np.full(n, np.nan)
        for t0 in range(max(self.min_history, 200), n, day):
            lo = max(0, t0 - 2 * week)
            past = X[lo:t0][known[lo:t0]]
            if len(past) < max(50, _half(self.min_history)):  # the forest's own minimum is 50 rows
                continue
            model = IsolationForestDetector(n_estimators=50, max_samples=min(256, len(past)), random_state=self.random_state)
            model.fit(past)
            t1 = min(n, t0 + day)
            rows = np.arange(t0, t1)[known[t0:t1]]
            surprise[rows] = -np.log10(model.tail_probability(X[rows]))
        return likelihood(surprise, self.short, self.long, self.min_history)
