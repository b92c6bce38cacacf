"""Champion against challenger on the same windows: paired daily costs, a bootstrap over days, a verdict.

Both alert sets come from replaying ONE service over the same span ``[start, end)``: the
hybrid as it alerts when the champion model scores the windows, and when the challenger
does. Each UTC day gets a cost per side, in false-page equivalents (:class:`CostWeights`)::

    cost = false_alert * false alerts + missed_incident * missed + detection_hour * hours to detect
           + noise_hour * hours alerts were open outside any incident

(an alert that never resolves overlaps every incident: counted as alerts alone, a model that
always alerts would look perfect). The sides are compared day by day: the same day's load,
deploys and incidents hit both, so their difference is far less noisy than either cost.

The statistic is the **ratio of sums**, ``improvement = 1 - cost_challenger / cost_champion``
over the span (positive = challenger cheaper): the relative change of the total cost, which
is what the rule promises. A mean of daily ratios would weigh a quiet day (cost 2 against
1: -100 %) like a busy one, and is undefined on days the champion cost nothing. Its
uncertainty comes from a **paired bootstrap over days**: days drawn with replacement, the
same draw for both sides. A day is the unit because alerts and incidents cluster within
hours (an episode, an incident's tail), far less across days.

Over two to four weeks the plain percentile bootstrap is too narrow (a variance over ``n``
instead of ``n - 1``, normal instead of Student-t tails) and would promote an equal
challenger more often than ``1 - confidence``. The bounds are the *expanded* percentile
interval (Hesterberg 2015, "What teachers should know about the bootstrap"): the tail
``alpha`` is read at ``Phi(-sqrt(n / (n - 1)) * t(1 - alpha, n - 1))``, e.g. 5 % -> 3.3 %
for 14 days. Quantiles are read without interpolation, on the conservative side, so a
resample whose champion cost nothing (improvement -inf) never yields NaN.

Zero costs: a champion that cost nothing over the span leaves nothing to improve. The
improvement is then 0 if the challenger cost nothing too, else -inf (any cost is
infinitely worse than none); either way the champion stays. :meth:`PairedComparison.as_dict`
writes non-finite numbers as ``None`` (JSON null).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from scipy import stats

from workbench._util import jsonable, parse_time, to_utc
from workbench.errors import DataError
from workbench.evaluate.events import match_incidents, noise_spans
from workbench.evaluate.promotion import Verdict, decide, rule_checks  # noqa: F401 (Verdict, rule_checks: re-exported)
from workbench.settings.lifecycle import CostWeights, LifecycleSettings

__all__ = ["BootstrapResult", "PairedComparison", "SideTotals", "Verdict", "bootstrap_improvement", "compare_paired", "daily_costs", "decide", "expanded_tail", "rule_checks"]

#: The two sides, in the order the columns of ``PairedComparison.daily`` follow.
SIDES = ("champion", "challenger")


@dataclass(frozen=True)
class BootstrapResult:
    """The improvement of the challenger over the champion and its bootstrap bounds (fractions, positive = challenger cheaper)."""

    #: ``1 - sum(challenger) / sum(champion)`` over all days.
    improvement: float
    #: One-sided lower bound at ``confidence`` (-inf with fewer than two days), and the two-sided 90 % interval.
    lower_bound: float
    interval_90: tuple[float, float]
    #: The summed daily costs, false-page equivalents.
    champion_cost: float
    challenger_cost: float


@dataclass(frozen=True)
class SideTotals:
    """One side's outcomes over the span (alerts and incidents starting in it)."""

    #: Total cost, false-page equivalents; lower = better.
    cost: float
    #: Alerts that overlapped no incident.
    false_alerts: int
    alerts: int
    #: ``false_alerts / alerts``, a fraction in [0, 1]; 0 with no alerts.
    fp_share: float
    #: Ids of the incidents no alert overlapped, sorted.
    missed: tuple[str, ...]
    #: Median of first alert minus incident start over detected incidents, minutes; None when none was detected.
    ttd_median_minutes: float | None
    #: Hours alerts were open outside any incident, within the span.
    noise_hours: float = 0.0


@dataclass(frozen=True)
class PairedComparison:
    """The comparison of a champion and a challenger on the same windows, and its verdict.

    ``daily`` holds each side's cost per UTC day (columns ``champion``, ``challenger``) for
    plots; it is left out of :meth:`as_dict`.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    days: int
    #: Labelled incidents starting in the span.
    incidents: int
    champion: SideTotals
    challenger: SideTotals
    #: ``1 - cost_challenger / cost_champion``; positive = challenger cheaper (see the module notes for zero costs).
    improvement: float
    #: One-sided lower bound of the improvement at ``confidence``, and its two-sided 90 % interval.
    lower_bound: float
    confidence: float
    interval_90: tuple[float, float]
    #: Ids of incidents the champion caught and the challenger missed, sorted.
    regressions: tuple[str, ...]
    #: ``challenger.fp_share - champion.fp_share``, a fraction (0.01 = one point).
    fp_rise: float
    verdict: Verdict
    #: One plain sentence per condition of the rule, the deciding one first.
    reasons: tuple[str, ...]
    bootstrap: int
    seed: int
    daily: pd.DataFrame = field(compare=False, repr=False)

    def as_dict(self) -> dict:
        """Plain ``str``/``int``/``float``/``list``/``None`` values, for JSON and the alias history."""
        return jsonable({f.name: getattr(self, f.name) for f in fields(self) if f.name != "daily"})


# -- daily costs ---------------------------------------------------------------------------


def _span(start, end) -> tuple[pd.Timestamp, pd.Timestamp, pd.DatetimeIndex]:
    """Start and end as UTC Timestamps, and the UTC days that overlap ``[start, end)``."""
    start, end = parse_time(start, "start"), parse_time(end, "end")
    if start is None or end is None:
        raise DataError("a paired comparison needs both a start and an end")
    if end <= start:
        raise DataError(f"empty span: end {end} is not after start {start}")
    days = pd.date_range(start.floor("D"), (end - pd.Timedelta(1, "ns")).floor("D"), freq="D")
    return start, end, days


def _prepare(incidents: pd.DataFrame, *alert_sets: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """Check the columns and the single service, and read the times as UTC; incidents first, then each alert set."""
    out = []
    for frame, what, times in [(incidents, "incidents", ["start", "end"]), *((a, "alerts", ["start", "end", "detected_at"]) for a in alert_sets)]:
        needed = ["id", "service", *times] if what == "incidents" else ["service", *times]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataError(f"{what} lack columns {missing}")
        # An empty frame's columns are often of dtype object, and concatenated frames repeat
        # index labels (matching marks alerts by label): fresh labels, UTC timestamps.
        fresh = frame.reset_index(drop=True)
        out.append(fresh.assign(**{c: to_utc(fresh[c], what=f"{what} {c}") for c in times}))
    # An incident of another service would count as missed by both sides: refuse, loudly.
    services = set().union(*(set(frame["service"]) for frame in out))
    if len(services) > 1:
        raise DataError(f"a paired comparison is for one service; the frames name {sorted(map(str, services))}")
    return tuple(out)


def _outcomes(alerts, incidents, start, end, window):
    """In-span alerts with whether each overlaps an incident, and in-span incidents with their time to detect.

    Alerts are matched against every incident given, so an alert inside an incident that
    began just before the span is not called false; only in-span incidents are counted.
    """
    alerts = alerts[(alerts["start"] >= start) & (alerts["start"] < end)]
    hit, _ = match_incidents(alerts, incidents, window)
    mine = incidents[(incidents["start"] >= start) & (incidents["start"] < end)]
    _, ttd = match_incidents(alerts, mine, window)
    return alerts, hit, mine, ttd, noise_spans(alerts, incidents, window)


def _noise_by_day(noise: pd.DataFrame, days: pd.DatetimeIndex) -> pd.Series:
    """Hours of ``noise`` spans per day of ``days`` (a span is cut at midnight; outside the days is dropped)."""
    out = pd.Series(0.0, index=days)
    day = pd.Timedelta(days=1)
    for s, e in noise[["start", "end"]].itertuples(index=False):
        for d in days[(days < e) & (days + day > s)]:
            out[d] += (min(e, d + day) - max(s, d)) / pd.Timedelta(hours=1)
    return out


def _daily(alerts, hit, incidents, ttd, noise, days, weights: CostWeights) -> pd.DataFrame:
    false_days = alerts.loc[~hit, "start"].dt.floor("D")
    incident_days = incidents["start"].dt.floor("D")
    out = pd.DataFrame(index=days.rename("day"))
    out["false_alerts"] = false_days.value_counts().reindex(days, fill_value=0).astype(int)
    out["missed"] = incident_days[ttd.isna()].value_counts().reindex(days, fill_value=0).astype(int)
    hours = (ttd.dropna() / pd.Timedelta(hours=1)).groupby(incident_days[ttd.notna()]).sum()
    out["detection_hours"] = hours.reindex(days, fill_value=0.0).astype(float)
    out["noise_hours"] = _noise_by_day(noise, days)
    out["cost"] = (
        weights.false_alert * out["false_alerts"] + weights.missed_incident * out["missed"]
        + weights.detection_hour * out["detection_hours"] + weights.noise_hour * out["noise_hours"]
    )  # fmt: skip
    return out


def daily_costs(alerts: pd.DataFrame, incidents: pd.DataFrame, start, end, *, window: str | pd.Timedelta, weights: CostWeights) -> pd.DataFrame:
    """One side's cost per UTC day of ``[start, end)``; days without anything are rows of zeros.

    Parameters
    ----------
    alerts
        One service's alerts (``service, start, end, detected_at``, UTC); those starting in the span count.
    incidents
        The same service's labelled incidents (``id, service, start, end``, UTC); those starting in the span count.
    start, end
        The span, UTC (tz-naive values are read as UTC). A day partly in it is a row.
    window
        The analysis window width: an alert up to one window after an incident's end still belongs to it.
    weights
        Cost of each outcome, in false-page equivalents.

    Returns
    -------
    DataFrame
        Indexed by ``day`` (UTC midnight). ``false_alerts``: alerts starting that day that
        overlap no incident; ``missed``: incidents starting that day no alert overlaps;
        ``detection_hours``: over detected incidents starting that day, the hours from
        incident start to first alert; ``cost``: the weighted sum. Lower = better.

    Raises
    ------
    DataError
        Missing columns, more than one service, or ``end`` not after ``start``.
    """
    start, end, days = _span(start, end)
    incidents, alerts = _prepare(incidents, alerts)
    return _daily(*_outcomes(alerts, incidents, start, end, window), days, weights)



def _ratio_improvement(champion: np.ndarray, challenger: np.ndarray) -> np.ndarray:
    """``1 - challenger / champion`` elementwise; 0 where both are 0, -inf where only the champion is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(champion > 0, 1.0 - challenger / champion, np.where(challenger > 0, -np.inf, 0.0))


def expanded_tail(alpha: float, n: int) -> float:
    """Hesterberg's expanded percentile: the tail probability to read from the bootstrap so it holds ``alpha`` for ``n`` days (or units)."""
    return float(stats.norm.cdf(-np.sqrt(n / (n - 1)) * stats.t.ppf(1 - alpha, n - 1)))


def bootstrap_improvement(champion_costs, challenger_costs, *, confidence: float, n: int, rng: np.random.Generator) -> BootstrapResult:
    """The challenger's relative improvement over aligned daily costs, with a paired bootstrap over days.

    Parameters
    ----------
    champion_costs, challenger_costs
        Cost per day, the same days in the same order (false-page equivalents, >= 0; lower = better).
    confidence
        Level of the one-sided lower bound, e.g. 0.95.
    n
        Bootstrap resamples (each draws as many days as given, with replacement, the same days for both sides).
    rng
        The source of randomness; seed it for a reproducible result.

    Returns
    -------
    BootstrapResult
        Fractions, positive = challenger cheaper. The bounds are expanded percentile
        bounds (see the module notes); with fewer than two days they are infinite.
    """
    a, b = np.asarray(champion_costs, dtype=float), np.asarray(challenger_costs, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise DataError(f"daily costs must be two aligned 1-d arrays, got shapes {a.shape} and {b.shape}")
    if not (np.isfinite(a) & np.isfinite(b) & (a >= 0) & (b >= 0)).all():
        raise DataError("daily costs must be finite and >= 0")
    totals = float(a.sum()), float(b.sum())
    improvement = float(_ratio_improvement(*map(np.array, totals)))
    days = a.size
    if days < 2:
        # One day shows no day-to-day variation, so it bounds nothing.
        return BootstrapResult(improvement, -np.inf, (-np.inf, np.inf), *totals)
    draws = rng.integers(0, days, size=(n, days))
    boot = _ratio_improvement(a[draws].sum(axis=1), b[draws].sum(axis=1))
    low_tail, tail_90 = expanded_tail(1 - confidence, days), expanded_tail(0.05, days)
    lower = float(np.quantile(boot, low_tail, method="lower"))
    interval = (float(np.quantile(boot, tail_90, method="lower")), float(np.quantile(boot, 1 - tail_90, method="higher")))
    return BootstrapResult(improvement, lower, interval, *totals)



# -- the comparison ------------------------------------------------------------------------


def _totals(alerts, hit, incidents, ttd, noise, cost: float, noise_hours: float = 0.0) -> SideTotals:
    minutes = (ttd.dropna() / pd.Timedelta(minutes=1)).to_numpy()
    false = int((~hit).sum())
    return SideTotals(
        cost=float(cost),
        false_alerts=false,
        alerts=int(len(alerts)),
        fp_share=false / len(alerts) if len(alerts) else 0.0,
        missed=tuple(sorted(map(str, incidents.loc[ttd.isna(), "id"]))),
        ttd_median_minutes=float(np.median(minutes)) if minutes.size else None,
        noise_hours=noise_hours,
    )


def compare_paired(
    champion_alerts: pd.DataFrame, challenger_alerts: pd.DataFrame, incidents: pd.DataFrame, start, end, *, window: str | pd.Timedelta, settings: LifecycleSettings, seed: int = 0
) -> PairedComparison:
    """Compare the hybrid's alerts under the champion and under the challenger on the same days, and decide.

    Parameters
    ----------
    champion_alerts, challenger_alerts
        One service's alerts from replaying ``[start, end)`` with each model (see :func:`daily_costs`).
    incidents
        That service's labelled incidents.
    start, end
        The replayed span, UTC.
    window
        The analysis window width (grace after an incident's end).
    settings
        The promotion rule: cost weights, thresholds, bootstrap size.
    seed
        Seed of the bootstrap's generator; the same seed gives the same bounds.

    Returns
    -------
    PairedComparison
        Totals per side, the improvement (positive = challenger cheaper) and its bounds,
        the regressions, the verdict and its reasons.
    """
    start, end, days = _span(start, end)
    incidents, *alert_sets = _prepare(incidents, champion_alerts, challenger_alerts)
    outcomes = dict(zip(SIDES, (_outcomes(alerts, incidents, start, end, window) for alerts in alert_sets)))
    frames = {side: _daily(*outcomes[side], days, settings.cost) for side in SIDES}
    daily = pd.DataFrame({side: frames[side]["cost"] for side in SIDES})
    champion, challenger = (_totals(*outcomes[side], cost=daily[side].sum(), noise_hours=float(frames[side]["noise_hours"].sum())) for side in SIDES)
    mine, caught, missed = outcomes["champion"][2], outcomes["champion"][3].notna(), outcomes["challenger"][3].isna()
    regressions = tuple(sorted(map(str, mine.loc[caught & missed, "id"])))
    result = bootstrap_improvement(daily["champion"], daily["challenger"], confidence=settings.confidence, n=settings.bootstrap, rng=np.random.default_rng(seed))
    fp_rise = challenger.fp_share - champion.fp_share
    verdict, reasons = decide(result, settings=settings, incidents=len(mine), days=len(days), regressions=regressions, fp_rise=fp_rise)
    return PairedComparison(
        start=start, end=end, days=len(days), incidents=len(mine), champion=champion, challenger=challenger,
        improvement=result.improvement, lower_bound=result.lower_bound, confidence=settings.confidence, interval_90=result.interval_90,
        regressions=regressions, fp_rise=fp_rise, verdict=verdict, reasons=reasons, bootstrap=settings.bootstrap, seed=seed, daily=daily,
    )  # fmt: skip
