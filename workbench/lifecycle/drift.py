"""Drift checks per service against the champion's training data (:func:`check_drift`).

At training time :meth:`DriftReference.from_training` keeps a small, JSON-serialisable profile:
per z-feature and for the raw score, quantile bins with the training counts and how much one
normal training span (a day) differs from the rest; and the alarm rate the calibration promised.
A check of one span (``DriftSettings.span`` of scored windows) asks three questions:

* **features**: has a feature's distribution moved? Population-stability index (PSI) per
  feature; *warn* at ``psi_warn`` (with the test's own p < 0.05); *act* at ``psi_act`` only when a G-test of the binned
  counts is significant too. A day has ~96 windows, so a PSI over 0.25 happens by chance;
* **alert rate**: does the model flag more windows than its calibration promised? A one-sided
  binomial test of the flagged *episodes* (runs of adjacent flagged windows: one blip flags
  several windows, which are not independent trials) against the promised per-window rate;
* **score shift**: has the raw-score distribution moved (the features' rule on score bins)? It
  summarises the features, so it warns and never acts alone.

``alpha``, the family-wise false-alarm level of one check, is split (Bonferroni) over the
features and the two other tests. The G-test discounts twice for what normal data does:
windows are autocorrelated, so a span counts ``n_eff = n (1 - rho) / (1 + rho)`` windows;
and normal spans differ from each other (a deploy moves CPU for days; a lag-1 correlation
inside one span cannot see an offset the whole span shares), so the statistic is also
judged against the spread of the training spans' own statistics (see :class:`Bins`).
Pure: arrays and frames in, results out; storing and logging are the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import xlogy

from workbench._util import jsonable
from workbench.errors import DataError, ParameterError
from workbench.settings import DriftSettings

__all__ = [
    "MIN_WINDOWS", "AlertRate", "Bins", "DriftCheck", "DriftReference", "DriftStatus",
    "ScoreShift", "check_drift", "effective_size", "promised_alarm_rate", "psi",
]  # fmt: skip

#: Fewer valid windows and a check says "too few windows to tell"; fewer in a training span
#: and the span is not used to measure how normal spans differ.
MIN_WINDOWS = 24
#: Training spans needed to measure how much normal spans differ from each other.
MIN_SPANS = 5
#: A training span is compared with the training data less itself and this many spans either side:
#: a release holds its level for days, so neighbours share a span's level; a new span is judged
#: against levels it did not help to set.
NEIGHBOURS = 3
#: Confidence of the upper bound taken for the spread of the training spans' statistics.
SPREAD_CONFIDENCE = 0.95
#: The alert-rate test acts only when the observed rate is at least this many times the promise,
#: so a tiny excess that a long span makes significant does not retrain a model.
RATE_ACT_FACTOR = 2.0
#: Flagged share of a span's windows that acts on its own (one long episode is still a flood).
FLOOD_SHARE = 0.25
#: Every test warns below this p-value (its own level, not family-wise).
RATE_WARN_P = 0.05
#: Half a count added to every bin (Jeffreys prior): an empty bin would make log(p / q) infinite.
SMOOTHING = 0.5
REFERENCE_VERSION = 1


class DriftStatus(StrEnum):
    """Verdict of one test or of a whole check; :meth:`worst` orders them ok < warn < act."""

    OK = "ok"
    WARN = "warn"
    ACT = "act"

    @classmethod
    def worst(cls, statuses) -> DriftStatus:
        return max((cls(s) for s in statuses), key=list(cls).index, default=cls.OK)


def promised_alarm_rate(detector) -> float:
    """Per-window probability that a *normal* window reaches the detector's ``alarm_confidence``.

    A window of tail probability ``p`` has confidence ``100 (1 - p)^period`` (``confidence_period``
    windows; :mod:`workbench.detect.forest`), which reaches ``alarm_confidence`` ``a`` when
    ``p <= 1 - (a / 100)^(1 / period)``, and a calibrated tail probability is that small with at
    most that probability. Equals ``10 ** detector.offset_``: 4.3e-4 for 75 over a week of
    15-minute windows, one flagged window in ~24 normal days. Reads only the parameters.
    """
    confidence, period = float(detector.alarm_confidence), int(detector.confidence_period)
    if not 0 < confidence < 100 or period < 1:
        raise ParameterError(f"alarm_confidence must be in (0, 100) and confidence_period >= 1, got {confidence}, {period}")
    return float(-np.expm1(np.log(confidence / 100.0) / period))


def psi(reference_counts, current_counts) -> float:
    """Population-stability index of current bin counts against reference bin counts (>= 0).

    ``sum((c - r) ln(c / r))``, ``c`` and ``r`` the proportions after adding :data:`SMOOTHING` to
    every count. 0 = same; 0.1 small shift; 0.25+ large; N(1, 1) vs N(0, 1): 1 with fine bins.
    """
    r = np.asarray(reference_counts, dtype=float) + SMOOTHING
    c = np.asarray(current_counts, dtype=float) + SMOOTHING
    r, c = r / r.sum(), c / c.sum()
    return float(np.sum((c - r) * np.log(c / r)))


def effective_size(values) -> float:
    """Windows' worth of independent information in a series in time order (``<= len``).

    ``n (1 - rho) / (1 + rho)``, the AR(1) effective sample size, ``rho`` the lag-1
    autocorrelation (clipped to ``[0, 1)``) of the ranks: the tests count bins, so order
    matters, not size, and one blip cannot make a day look dependent. Constant: ``rho = 0``.
    """
    x = stats.rankdata(np.asarray(values, dtype=float))
    d = x - x.mean()
    total = float(np.dot(d, d))
    if x.size < 3 or total == 0:
        return float(x.size)
    rho = min(max(float(np.dot(d[:-1], d[1:])) / total, 0.0), 1 - 1e-9)
    return x.size * (1 - rho) / (1 + rho)


def _g_test(edges, reference_counts, values) -> tuple[float, float, float]:
    """PSI, G statistic discounted to ``n_eff`` windows, and ``n_eff``, of ``values`` (time order)."""
    observed = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    r = np.asarray(reference_counts, dtype=float) + SMOOTHING
    expected = values.size * r / r.sum()
    n_eff = effective_size(values)
    g = 2.0 * float(np.sum(xlogy(observed, observed / expected))) * n_eff / values.size
    return psi(reference_counts, observed), g, n_eff


@dataclass(frozen=True)
class Bins:
    """Quantile bins of one variable, its training counts, and how normal training spans vary.

    Bins are right-closed, ``(edges[i-1], edges[i]]``, with open bins below the first edge
    and above the last. A value holding at least one bin's worth of training data (a
    constant feature, the zero of a mostly-zero one) gets a bin of its own, so a move off it
    either way shows. ``scale``, ``df``: the training spans' discounted G statistics, each span
    against the others, fitted as ``scale * chi2(df)``; i.i.d. data gives ~1 and ``bins - 1``.
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    scale: float
    df: float

    @classmethod
    def fit(cls, values, spans, bins: int = 10) -> Bins:
        """Bins of ``values`` (time order; NaN ignored), spans labelled by ``spans`` (same length)."""
        x = np.asarray(values, dtype=float)
        ok = np.isfinite(x)
        x, spans = x[ok], np.asarray(spans)[ok]
        if x.size < bins:
            raise DataError(f"need at least {bins} finite training values per variable, got {x.size}")
        edges = np.unique(np.quantile(x, np.arange(1, bins) / bins))
        massive = [e for e in edges if np.mean(x == e) >= 1 / bins]
        edges = np.unique(np.concatenate([edges, np.nextafter(massive, -np.inf)]))
        counts = np.bincount(np.searchsorted(edges, x, side="left"), minlength=edges.size + 1)
        g = []
        for label in pd.unique(spans):
            part = x[spans == label]
            if part.size >= MIN_WINDOWS:
                block = x[np.abs(spans - label) <= NEIGHBOURS]
                rest = counts - np.bincount(np.searchsorted(edges, block, side="left"), minlength=counts.size)
                g.append(_g_test(edges, rest, part)[1])
        if len(g) < MIN_SPANS:
            raise DataError(f"need at least {MIN_SPANS} training spans of {MIN_WINDOWS}+ windows to learn how normal spans differ, got {len(g)}")
        # Moments of the span statistics, the variance at its upper confidence bound: a spread from
        # a few dozen spans is uncertain, and a plug-in one makes the far tail (alpha / m) too thin.
        mean, var = float(np.mean(g)), float(np.var(g, ddof=1))
        var *= (len(g) - 1) / stats.chi2.ppf(1 - SPREAD_CONFIDENCE, len(g) - 1)
        scale = max(var / (2 * mean), 1.0) if mean > 0 else 1.0
        return cls(tuple(map(float, edges)), tuple(map(int, counts)), float(scale), float(max(mean / scale, 1.0)))

    def test(self, values) -> tuple[float, float, float]:
        """PSI, p-value and ``n_eff`` of ``values`` (time order, all finite) against the training data.

        The p-value is the larger of the G-test's on ``n_eff`` windows (``chi2(bins - 1)``) and
        of the same statistic against the training spans' spread (``scale * chi2(df)``): a
        span must differ more than both chance and normal spans do.
        """
        value, g, n_eff = _g_test(self.edges, self.counts, np.asarray(values, dtype=float))
        p = max(stats.chi2.sf(g, df=len(self.counts) - 1), stats.chi2.sf(g / self.scale, df=self.df))
        return value, float(p), n_eff

    def as_dict(self) -> dict:
        return {"edges": list(self.edges), "counts": list(self.counts), "scale": self.scale, "df": self.df}

    @classmethod
    def from_dict(cls, data: dict) -> Bins:
        edges, counts = tuple(map(float, data["edges"])), tuple(map(int, data["counts"]))
        if len(counts) != len(edges) + 1 or sum(counts) == 0 or list(edges) != sorted(set(edges)):
            raise DataError(f"drift bins need increasing edges and one more count than edges, got {str(data)[:200]}")
        return cls(edges, counts, float(data["scale"]), float(data["df"]))


@dataclass(frozen=True)
class DriftReference:
    """What the champion was trained on, small enough for its metadata file.

    ``features``: :class:`Bins` per z-feature the forest sees, in training column order;
    ``score``: of the training raw scores (``score_samples``: log10 tail probability, lower = more
    abnormal); ``alarm_rate``: the per-window probability, promised by the calibration, that a
    normal window is flagged; ``span``: the length of the training spans compared with each
    other (checks should look at spans this long).
    """

    features: dict[str, Bins]
    score: Bins
    alarm_rate: float
    span: str

    @classmethod
    def from_training(cls, X: pd.DataFrame, raw, alarm_rate: float, span: str = "1D", bins: int = 10) -> DriftReference:
        """Profile the training matrix ``X`` (``model_matrix`` rows the forest was fitted on) and its scores.

        ``X`` needs its DatetimeIndex, which cuts the rows into spans of ``span``
        (``DriftSettings.span``); NaN values are ignored per column. ``raw`` is
        ``model.training_raw``, one per row; ``alarm_rate`` is :func:`promised_alarm_rate`.
        Raises :class:`DataError` for an empty frame, no DatetimeIndex, ``raw`` of another
        length, a column with fewer than ``bins`` finite values, or under :data:`MIN_SPANS` spans.
        """
        if not isinstance(X, pd.DataFrame) or X.shape[0] == 0 or X.shape[1] == 0:
            raise DataError("a drift reference needs a non-empty training frame of features")
        if not isinstance(X.index, pd.DatetimeIndex):
            raise DataError(f"a drift reference needs the training windows' DatetimeIndex, got {type(X.index).__name__}")
        raw = np.asarray(raw, dtype=float).ravel()
        if raw.size != len(X):
            raise DataError(f"training scores ({raw.size}) and training rows ({len(X)}) differ in number")
        if bins < 2 or not 0 < alarm_rate < 1:
            raise ParameterError(f"bins must be >= 2 and alarm_rate a per-window probability in (0, 1), got {bins}, {alarm_rate}")
        short = [str(c) for c in X.columns if np.isfinite(X[c].to_numpy(dtype=float)).sum() < bins]
        if short:
            raise DataError(f"features {short} have fewer than {bins} finite training values")
        order = np.argsort(X.index.asi8, kind="stable")
        X, raw = X.iloc[order], raw[order]
        starts = X.index.floor(pd.Timedelta(span))
        spans = np.asarray((starts - starts[0]) // pd.Timedelta(span))
        features = {str(c): Bins.fit(X[c], spans, bins) for c in X.columns}
        return cls(features, Bins.fit(raw, spans, bins), float(alarm_rate), str(span))

    def as_dict(self) -> dict:
        """JSON-serialisable; :meth:`from_dict` gives back an equal reference."""
        features = {name: b.as_dict() for name, b in self.features.items()}
        return {"version": REFERENCE_VERSION, "span": self.span, "alarm_rate": self.alarm_rate, "score": self.score.as_dict(), "features": features}

    @classmethod
    def from_dict(cls, data: dict) -> DriftReference:
        if not isinstance(data, dict) or data.get("version") != REFERENCE_VERSION or not data.get("features"):
            raise DataError(f"not a drift reference (version {REFERENCE_VERSION} with features): {str(data)[:200]}")
        try:
            features = {str(name): Bins.from_dict(b) for name, b in data["features"].items()}
            return cls(features, Bins.from_dict(data["score"]), float(data["alarm_rate"]), str(data["span"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"drift reference is incomplete or malformed: {exc!r}") from None


@dataclass(frozen=True)
class AlertRate:
    """Flagged windows (and their episodes) against the calibration's promise (rates per window, 0-1)."""

    flagged: int
    episodes: int
    observed: float
    promised: float
    p_value: float
    status: DriftStatus


@dataclass(frozen=True)
class ScoreShift:
    """Shift of the raw-score distribution; ``statistic`` is its PSI against the training scores."""

    statistic: float
    p_value: float
    status: DriftStatus


@dataclass(frozen=True)
class DriftCheck:
    """One drift check of one service.

    ``status`` is the worst of all tests (``act`` = retrain early, ``warn`` = worth a look);
    ``windows`` the valid windows checked (every feature and the raw score finite);
    ``features`` has ``feature, psi, p_value, n_eff, status``, worst first (status, then PSI);
    ``reasons`` are plain-English findings for the SRE reading the log.
    """

    status: DriftStatus
    windows: int
    features: pd.DataFrame
    alert_rate: AlertRate
    score_shift: ScoreShift
    reasons: list[str]

    def as_dict(self) -> dict:
        """JSON-serialisable (NaN becomes None), for an append-only log."""
        features = [jsonable(row) for row in self.features.to_dict("records")]
        tests = {"alert_rate": jsonable(vars(self.alert_rate)), "score_shift": jsonable(vars(self.score_shift))}
        return {"status": self.status.value, "windows": self.windows, "features": features, **tests, "reasons": list(self.reasons)}


def _status(value: float, p: float, settings: DriftSettings, alpha_each: float) -> DriftStatus:
    # A day's PSI passes 0.1 on nearly every normal day: a warning also needs the test's own 5 %.
    if value >= settings.psi_act and p < alpha_each:
        return DriftStatus.ACT
    return DriftStatus.WARN if value >= settings.psi_warn and p < RATE_WARN_P else DriftStatus.OK


def check_drift(reference: DriftReference, X_current: pd.DataFrame, raw_current, flagged, settings: DriftSettings | None = None) -> DriftCheck:
    """Check one span of scored windows against the reference (selecting the span is the caller's).

    Parameters
    ----------
    reference : DriftReference
        The champion's, from its metadata.
    X_current : DataFrame
        The span's ``model_matrix`` rows in time order; must hold every reference feature.
    raw_current : array of float, one per row
        ``score_samples`` of those windows (log10 tail probability, lower = more abnormal); NaN = not scored.
    flagged : array of bool, one per row
        Whether each window reached ``alarm_confidence`` (``raw <= detector.offset_``).
    settings : DriftSettings

    Under :data:`MIN_WINDOWS` valid windows the check is ``ok`` with the reason "too few windows
    to tell". Raises :class:`DataError` naming reference features missing from ``X_current``,
    or for lengths that differ.
    """
    settings = settings or DriftSettings()
    missing = [name for name in reference.features if name not in X_current.columns]
    if missing:
        raise DataError(f"features {missing} were in the drift reference but are missing from the checked windows")
    raw, hit = np.asarray(raw_current, dtype=float).ravel(), np.asarray(flagged, dtype=bool).ravel()
    if not len(X_current) == raw.size == hit.size:
        raise DataError(f"windows, raw scores and flags differ in length: {len(X_current)}, {raw.size}, {hit.size}")
    X = X_current[list(reference.features)].to_numpy(dtype=float)
    valid = np.isfinite(X).all(axis=1) & np.isfinite(raw)
    n = int(valid.sum())
    columns = ["feature", "psi", "p_value", "n_eff", "status"]
    if n < MIN_WINDOWS:
        nan = float("nan")
        rate = AlertRate(int(hit[valid].sum()), 0, nan, reference.alarm_rate, nan, DriftStatus.OK)
        reason = f"too few windows to tell ({n}; a check needs {MIN_WINDOWS})"
        return DriftCheck(DriftStatus.OK, n, pd.DataFrame(columns=columns), rate, ScoreShift(nan, nan, DriftStatus.OK), [reason])
    X, raw, hit = X[valid], raw[valid], hit[valid]
    alpha_each = settings.alpha / (len(reference.features) + 2)
    tests = [(name, *bins.test(X[:, j])) for j, (name, bins) in enumerate(reference.features.items())]
    features = pd.DataFrame([(*t, _status(t[1], t[2], settings, alpha_each)) for t in tests], columns=columns)
    rank = features["status"].map(list(DriftStatus).index).to_numpy()
    features = features.iloc[np.lexsort((-features["psi"].to_numpy(), -rank))].reset_index(drop=True)

    # The features' rule on score bins, not Kolmogorov-Smirnov: training scores have a point mass
    # at 0 (tail probability capped at 1) that KS's continuous null mishandles, and KS knows neither
    # autocorrelation nor how normal days differ; one rule also makes every alarm mean the same.
    score_psi, score_p, score_eff = reference.score.test(raw)
    # The score summarises the features tested one by one above: its shift warns, never acts alone
    # (on normal weekends it moved enough to act on its own, a retrain for nothing).
    score_shift = ScoreShift(score_psi, score_p, min(_status(score_psi, score_p, settings, alpha_each), DriftStatus.WARN, key=list(DriftStatus).index))
    alert_rate = _alert_rate(hit, reference.alarm_rate, alpha_each)

    reasons = [_reason(r.feature, r.psi, r.p_value, r.n_eff, r.status, settings, alpha_each) for r in features.itertuples() if r.status != DriftStatus.OK]
    if score_shift.status != DriftStatus.OK:
        median = f"; median log10 tail probability {np.median(raw):.2f} (lower = more abnormal)"
        reasons.append(_reason("anomaly scores", score_psi, score_p, score_eff, score_shift.status, settings, alpha_each) + median)
    if alert_rate.status != DriftStatus.OK:
        a = alert_rate
        reasons.append(f"{a.status.value}: alert rate: {a.flagged} of {n} windows flagged ({a.observed:.2%}, {a.episodes} episodes), {a.observed / a.promised:.1f}x the {a.promised:.3%} the calibration promised, p = {a.p_value:.2g}")
    status = DriftStatus.worst([*features["status"], score_shift.status, alert_rate.status])
    if not reasons:
        reasons.append(f"no drift in {n} windows: features and scores move no more than on normal days, alerts as promised")
    return DriftCheck(status, n, features, alert_rate, score_shift, reasons)


def _alert_rate(hit: np.ndarray, promised: float, alpha_each: float) -> AlertRate:
    flagged, n = int(hit.sum()), hit.size
    # Episodes, not windows, are the trials: a normal window is flagged with probability at most
    # ``promised``, so episode starts are at most that frequent too, and roughly independent.
    episodes = int(np.sum(hit & ~np.concatenate([[False], hit[:-1]])))
    p = float(stats.binomtest(episodes, n, promised, alternative="greater").pvalue)
    observed = flagged / n
    # A stale model alarms without pause: one endless episode, which the episode count cannot
    # see. A quarter of the span flagged is hundreds of times any promise, whatever the count.
    act = (p < alpha_each or observed >= FLOOD_SHARE) and observed >= RATE_ACT_FACTOR * promised
    status = DriftStatus.ACT if act else DriftStatus.WARN if p < RATE_WARN_P else DriftStatus.OK
    return AlertRate(flagged, episodes, observed, promised, p, status)


def _reason(name: str, value: float, p: float, n_eff: float, status: DriftStatus, settings: DriftSettings, alpha_each: float) -> str:
    level = f"act ≥ {settings.psi_act}" if value >= settings.psi_act else f"warn ≥ {settings.psi_warn}"
    text = f"{DriftStatus(status).value}: {name}: PSI {value:.2g} ({level}), p = {p:.2g}"
    if p >= alpha_each:
        text += f", not significant (needs p < {alpha_each:.2g}; {n_eff:.0f} effective windows, judged against how normal training spans differ)"
    return text
