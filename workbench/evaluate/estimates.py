"""Figures with intervals, and old against new: the statistics behind the business figures (:mod:`~workbench.evaluate.business`).

Every figure can be checked by hand:

* median and 90th percentile: numpy's, interpolating linearly between the closest ranks
  (the 90th percentile of 10, 20, 30, 40 is 37);
* geometric mean: ``exp(mean(log(max(x, 1))))`` in minutes: a duration under a minute counts
  as one minute (one zero would make the geometric mean zero);
* per week (:func:`rate`): the sum over the sum of weeks, over 7-day stretches (the last of a
  span may be shorter);
* interval (:func:`estimate`, :func:`rate`): **percentile bootstrap**, seeded: the incidents (or
  the 7-day stretches) are drawn with replacement as many times as there are, the figure is
  computed on each of ``n_boot`` draws, and the 5th and 95th percentiles of those are the 90 %
  interval. With fewer than two incidents (or stretches) there is no interval (NaN).

:func:`compare_figure` says whether the new system is **better**, **worse**, or that there are
"not enough incidents (weeks) to tell": a paired bootstrap of the difference (the same weeks, or
the same incidents, drawn for both systems) whose 95 % interval must lie wholly on one side of
zero. Over a few weeks the plain percentile interval is too narrow (on seven weeks of equal
Poisson counts it called one side better in 10 % of runs instead of 2.5 %), so its tails are
read expanded (Hesterberg 2015, as :func:`~workbench.evaluate.paired.expanded_tail`), and
fewer than :data:`MIN_UNITS` weeks or incidents never give a verdict. On no-change data (both
systems drawn from one process) it says "better" in about 3 % of runs
(``tests/evaluate/test_business.py`` checks at most 5 % over 200 seeded simulations).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from workbench.errors import DataError, ParameterError
from workbench.evaluate.paired import expanded_tail

__all__ = ["MIN_UNITS", "STATS", "Comparison", "Estimate", "compare_figure", "estimate", "rate"]

#: The three summaries of a duration.
STATS = ("median", "p90", "geomean")
#: Fewer weeks or incidents than this never give a verdict.
MIN_UNITS = 4


@dataclass(frozen=True)
class Estimate:
    """A figure, its 90 % interval (NaN below two units) and how many units it rests on (NaN value when none)."""

    value: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Comparison:
    """The new system against the old on one figure: ``change = new - old``, its 95 % interval and the verdict."""

    old: float
    new: float
    change: float
    low: float
    high: float
    #: Units resampled: weeks (7-day stretches) or incidents.
    n: int
    unit: str
    #: "better", "worse" or "not enough <unit> to tell".
    verdict: str


def _quantile(values: np.ndarray, q: float) -> np.ndarray:
    """numpy's linear quantile along the last axis, leaving NaN out (all NaN: NaN); vectorised, unlike ``nanquantile`` on 2-d input."""
    if values.shape[-1] == 0:
        return np.full(values.shape[:-1], np.nan)
    ordered = np.sort(values, axis=-1)  # NaN sorts last
    valid = (~np.isnan(ordered)).sum(axis=-1)
    position = q * np.maximum(valid - 1, 0)
    below = np.floor(position).astype(int)[..., None]
    above = np.minimum(below + 1, np.maximum(valid - 1, 0)[..., None])
    low, high = np.take_along_axis(ordered, below, -1)[..., 0], np.take_along_axis(ordered, above, -1)[..., 0]
    return np.where(valid > 0, low + (position - below[..., 0]) * (high - low), np.nan)


def _statistic(values: np.ndarray, stat: str) -> np.ndarray:
    """``stat`` along the last axis, ignoring NaN (a missed incident has no time to detect)."""
    if stat == "median":
        return _quantile(values, 0.5)
    if stat == "p90":
        return _quantile(values, 0.9)
    if stat == "geomean":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN resample is NaN, and says so
            return np.exp(np.nanmean(np.log(np.maximum(values, 1.0)), axis=-1))
    raise ParameterError(f"unknown statistic {stat!r}; choose one of {', '.join(STATS)}")


def estimate(values, stat: str, *, n_boot: int = 2000, seed: int = 0) -> Estimate:
    """``stat`` (median, p90 or geomean) of ``values`` (minutes; NaN left out) with a percentile bootstrap 90 % interval."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return Estimate(np.nan, np.nan, np.nan, 0)
    value = float(_statistic(v, stat))
    if v.size < 2:
        return Estimate(value, np.nan, np.nan, 1)
    boot = _statistic(v[np.random.default_rng(seed).integers(0, v.size, (n_boot, v.size))], stat)
    low, high = np.quantile(boot, [0.05, 0.95])
    return Estimate(value, float(low), float(high), int(v.size))


def rate(counts, weeks, *, n_boot: int = 2000, seed: int = 0) -> Estimate:
    """``sum(counts) / sum(weeks)`` over 7-day stretches (``weeks``: each one's length in weeks), with a bootstrap 90 % interval over stretches."""
    c, w = np.asarray(counts, dtype=float), np.asarray(weeks, dtype=float)
    if c.size == 0 or w.sum() <= 0:
        return Estimate(np.nan, np.nan, np.nan, 0)
    value = float(c.sum() / w.sum())
    if c.size < 2:
        return Estimate(value, np.nan, np.nan, 1)
    draws = np.random.default_rng(seed).integers(0, c.size, (n_boot, c.size))
    low, high = np.quantile(c[draws].sum(axis=1) / w[draws].sum(axis=1), [0.05, 0.95])
    return Estimate(value, float(low), float(high), int(c.size))


def compare_figure(
    old, new, *, stat: str = "median", unit: str = "incidents", weeks=None, better: str = "lower", n_boot: int = 2000, seed: int = 0, confidence: float = 0.95
) -> Comparison:
    """Whether ``new`` beats ``old`` on one figure, or there are too few units to tell.

    Parameters
    ----------
    old, new
        Aligned 1-d arrays, one value per unit: per incident (minutes to detect, NaN when that
        system missed it), or per 7-day stretch (a count: pages, toil hours; give ``weeks``).
    stat
        ``median``, ``p90`` or ``geomean`` over incidents, or ``rate`` (sum over the sum of ``weeks``).
    unit
        What a unit is, for the verdict: "incidents" or "weeks".
    weeks
        For ``rate``: the length of each stretch in weeks.
    better
        ``lower`` or ``higher``: which side of zero the change must lie on to be better.
    n_boot, seed
        Bootstrap resamples and the seed of their generator.
    confidence
        Two-sided level of the change's interval; with no real change the comparison claims
        one (either way) in about ``1 - confidence`` of cases.

    Returns
    -------
    Comparison
        ``change = new - old`` (in the figure's unit), its interval (expanded percentile of a
        paired bootstrap: the same units drawn for both), and the verdict word.
    """
    a, b = np.asarray(old, dtype=float), np.asarray(new, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise DataError(f"a comparison needs two aligned 1-d arrays, got shapes {a.shape} and {b.shape}")
    if better not in ("lower", "higher"):
        raise ParameterError(f"better must be 'lower' or 'higher', got {better!r}")
    if stat == "rate":
        w = np.ones_like(a) if weeks is None else np.asarray(weeks, dtype=float)
        if w.shape != a.shape:
            raise DataError(f"weeks must give one length per stretch ({a.size}), got {w.size}")

        def figure(x, idx):
            with np.errstate(invalid="ignore", divide="ignore"):
                return x[idx].sum(axis=-1) / w[idx].sum(axis=-1)
    elif stat not in STATS:
        raise ParameterError(f"unknown statistic {stat!r}; choose one of rate, {', '.join(STATS)}")
    else:

        def figure(x, idx):
            return _statistic(x[idx], stat)

    n = a.size
    everything = np.arange(n)
    value_old, value_new = (float(figure(x, everything)) if n else np.nan for x in (a, b))
    change = value_new - value_old
    low = high = np.nan
    if n >= MIN_UNITS and np.isfinite(change):
        draws = np.random.default_rng(seed).integers(0, n, (n_boot, n))
        boot = figure(b, draws) - figure(a, draws)
        tail = expanded_tail((1 - confidence) / 2, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = float(np.nanquantile(boot, tail, method="lower")), float(np.nanquantile(boot, 1 - tail, method="higher"))
    verdict = f"not enough {unit} to tell"
    if np.isfinite(low) and np.isfinite(high) and (low > 0 or high < 0):
        verdict = "better" if (high < 0) == (better == "lower") else "worse"
    return Comparison(value_old, value_new, change, low, high, n, unit, verdict)
