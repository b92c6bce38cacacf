"""The figures leaders ask for, from a replay: incidents, time to detect and resolve, pages, toil and its cost.

Frames in, frames out (the alerts of each system, e.g. :attr:`~workbench.evaluate.replay.Evaluation.alerts`,
and the labelled incidents); nothing is loaded here. Per period (a calendar month by default,
or a week from Monday; periods are cut in UTC) and service, and for all of them, each system gets:

* **incidents** starting in the span, and those it **missed** (no alert of the service overlaps them);
* **time to detect**: its first alert overlapping the incident minus the incident's start, in
  minutes (0 when an alert was already open), over the incidents it detected, exactly as 04
  counts it (:func:`~workbench.evaluate.events.match_incidents`, an alert up to one window
  after the end still belongs to the incident); **time to resolve**: labelled end minus start.
  Each as median, 90th percentile and geometric mean, with its n and a 90 % interval;
* **pages**: alerts whose action pages (``page``, ``page_with_context``; the old thresholds'
  alerts all page), per week, and how many rang outside business hours and at night (read at
  ``detected_at``, when the page went out, in ``business.timezone``; see
  :class:`~workbench.settings.BusinessSettings`); an alert counts in the period it starts in, as in 04;
* **toil**: ``minutes_per_page`` per page plus ``minutes_per_investigation`` per alert that asks
  for investigation only, in hours per week, and its cost (hours times ``hourly_cost``).

The statistics (median, 90th percentile, geometric mean, per week, percentile bootstrap
intervals) and :func:`compare_figure`, which says "better", "worse" or "not enough incidents
(weeks) to tell" and never "better" on an interval that covers no change, are in
:mod:`~workbench.evaluate.estimates`, with how each is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from workbench.contracts import AlertAction
from workbench.errors import DataError, ParameterError
from workbench.evaluate.estimates import (
    MIN_UNITS,
    STATS,
    Comparison,
    Estimate,
    compare_figure,
    estimate,
    rate,
)
from workbench.evaluate.events import match_incidents
from workbench.settings.business import WEEKDAYS, BusinessSettings, parse_clock_span

__all__ = ["ALL", "MIN_UNITS", "STATS", "BusinessFigures", "Comparison", "Estimate", "Period", "business_figures", "compare_figure", "estimate", "incident_outcomes", "page_log", "rate"]

#: The label of the totals, as period and as service.
ALL = "all"
PAGING = (AlertAction.PAGE, AlertAction.PAGE_WITH_CONTEXT)
_WEEK = pd.Timedelta(days=7)


class Period(StrEnum):
    """How the trend is cut (UTC): calendar months, or weeks from Monday."""

    MONTH = "month"
    WEEK = "week"


# -- frames -------------------------------------------------------------------------------


def _utc(frame: pd.DataFrame, what: str, times: list[str], required: tuple[str, ...] = ()) -> pd.DataFrame:
    """``frame`` with fresh row labels and its ``times`` in UTC; naive times are refused, not guessed.

    A frame with no columns at all is an empty one (no alerts, no incidents).
    """
    needed = [*required, *times]
    missing = [c for c in needed if c not in frame.columns]
    if missing and len(frame.columns):
        raise DataError(f"{what} lack columns {missing}")
    out = frame.reset_index(drop=True).reindex(columns=list(dict.fromkeys([*frame.columns, *needed])))
    for c in times:
        try:
            parsed = out[c] if pd.api.types.is_datetime64_any_dtype(out[c]) else pd.to_datetime(out[c], utc=not len(out), format="mixed")
        except (ValueError, TypeError) as exc:
            texts = out[c].dropna().astype(str)
            if not (len(texts) and texts.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$").all()):
                raise DataError(f"{what} {c}: cannot read as times ({exc})") from exc
            # Every time names its zone, the offsets differ (a clock change): read them as UTC.
            parsed = pd.to_datetime(out[c], utc=True, format="mixed")
        if len(out) and getattr(parsed.dt, "tz", None) is None:
            raise DataError(
                f"{what} {c}: times without a time zone; pages are counted by the clock, so the zone is not guessed: give UTC times (e.g. .dt.tz_localize('UTC'))"
            )
        out[c] = parsed.dt.tz_convert("UTC")
    for c in required:
        if out[c].isna().any():
            raise DataError(f"{what} lack a {c} in {int(out[c].isna().sum())} rows")
    return out


def _alerts(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Alerts with UTC times; without ``detected_at`` an alert is taken to page at its ``start``."""
    if "detected_at" not in frame.columns and "start" in frame.columns:
        frame = frame.assign(detected_at=frame["start"])
    return _utc(frame, what, ["start", "end", "detected_at"], required=("service", "action"))


def _period_start(times: pd.Series, period: Period) -> pd.Series:
    day = times.dt.tz_convert("UTC").dt.normalize()
    back = day.dt.day - 1 if period is Period.MONTH else day.dt.day_of_week
    return day - pd.to_timedelta(back, unit="D")


def _in_span(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    return frame[(frame["start"] >= start) & (frame["start"] < end)]


def _within(minutes: np.ndarray, span: tuple[int, int]) -> np.ndarray:
    first, last = span
    return (minutes >= first) & (minutes < last) if first < last else (minutes >= first) | (minutes < last)


def incident_outcomes(alerts: dict[str, pd.DataFrame], incidents: pd.DataFrame, start, end, *, window, period: str = "month") -> pd.DataFrame:
    """One row per incident starting in ``[start, end)``: ``id, service, start, end, period`` (its
    period's first day, UTC), ``resolve_minutes`` and ``detect_<system>`` per system (minutes; NaN = missed)."""
    period = _period(period)
    mine = _in_span(_utc(incidents, "incidents", ["start", "end"], required=("id", "service"))[["id", "service", "start", "end"]], start, end)
    out = mine.reset_index(drop=True)
    out["period"] = _period_start(out["start"], period)
    out["resolve_minutes"] = (out["end"] - out["start"]) / pd.Timedelta(minutes=1)
    for system, frame in alerts.items():
        _, ttd = match_incidents(_in_span(_alerts(frame, f"{system} alerts"), start, end), out, window)
        out[f"detect_{system}"] = (ttd / pd.Timedelta(minutes=1)).astype(float)
    return out


def page_log(alerts: pd.DataFrame, start, end, *, settings: BusinessSettings, period: str = "month") -> pd.DataFrame:
    """One row per alert starting in ``[start, end)``: ``service, start, period, paged_at`` (UTC),
    ``page`` (its action pages), ``investigate``, ``outside_hours`` and ``night`` (pages only, by
    the clock of ``settings.timezone``) and ``toil_minutes``."""
    period = _period(period)
    log = _in_span(_alerts(alerts, "alerts"), start, end).reset_index(drop=True)
    action = log["action"].astype(str)
    local = log["detected_at"].dt.tz_convert(settings.timezone)
    minutes = (local.dt.hour * 60 + local.dt.minute).to_numpy()
    workday = local.dt.day_of_week.isin([WEEKDAYS.index(d) for d in settings.business_days]).to_numpy()
    page = action.isin([str(a) for a in PAGING]).to_numpy()
    investigate = (action == str(AlertAction.INVESTIGATE)).to_numpy()
    return pd.DataFrame(
        {
            "service": log["service"],
            "start": log["start"],
            "period": _period_start(log["start"], period),
            "paged_at": log["detected_at"],
            "page": page,
            "investigate": investigate,
            "outside_hours": page & ~(workday & _within(minutes, parse_clock_span(settings.business_hours))),
            "night": page & _within(minutes, parse_clock_span(settings.night)),
            "toil_minutes": np.where(page, settings.minutes_per_page, np.where(investigate, settings.minutes_per_investigation, 0.0)),
        }
    )


def _stretches(start: pd.Timestamp, end: pd.Timestamp, period: Period) -> pd.DataFrame:
    """The 7-day stretches of each period's part of ``[start, end)`` (``period`` = :data:`ALL`: of the whole span)."""
    rows = []
    firsts = pd.date_range(_period_start(pd.Series([start]), period)[0], end, freq="MS" if period is Period.MONTH else "7D")
    bounds = [(first, max(first, start), min(first + (pd.DateOffset(months=1) if period is Period.MONTH else _WEEK), end)) for first in firsts]
    for label, lo, hi in [*bounds, (ALL, start, end)]:
        for piece in pd.date_range(lo, hi, freq=_WEEK, inclusive="left"):
            rows.append({"period": label, "from": piece, "to": min(piece + _WEEK, hi), "weeks": (min(piece + _WEEK, hi) - piece) / _WEEK})
    return pd.DataFrame(rows, columns=["period", "from", "to", "weeks"])


def _period(period) -> Period:
    try:
        return Period(period)
    except ValueError:
        raise ParameterError(f"unknown period {period!r}; choose one of {', '.join(p.value for p in Period)}") from None


@dataclass
class BusinessFigures:
    """What :func:`business_figures` found; ``table`` holds one row per period, service and system.

    ``table`` columns: ``period`` (a period's first day, UTC, or :data:`ALL`), ``service`` (or
    :data:`ALL`), ``system``, ``weeks``, ``incidents``, ``missed``; ``detect_<stat>`` and
    ``resolve_<stat>`` for each of :data:`STATS` with ``_low``/``_high`` (90 % interval) and
    ``detect_n``/``resolve_n``; ``pages``, ``outside_hours``, ``night``, ``investigations``;
    ``pages_per_week``, ``toil_hours_per_week`` and ``cost_per_week`` with ``_low``/``_high``,
    and ``weeks_n`` (7-day stretches). ``comparisons`` has one row per period and figure (all
    services): ``figure``, then the :class:`Comparison` fields.
    """

    table: pd.DataFrame
    comparisons: pd.DataFrame
    incidents: pd.DataFrame
    pages: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    old: str
    new: str
    period: Period = Period.MONTH
    settings: BusinessSettings = field(default_factory=BusinessSettings)

    @property
    def weeks(self) -> float:
        return (self.end - self.start) / _WEEK

    def row(self, system: str, period=ALL, service: str = ALL) -> pd.Series:
        """The figures of one system for one period and service (default: the whole span, all services)."""
        t = self.table
        return t[(t["period"] == period) & (t["service"] == service) & (t["system"] == system)].iloc[0]

    def comparison(self, figure: str, period=ALL) -> pd.Series:
        c = self.comparisons
        return c[(c["period"] == period) & (c["figure"] == figure)].iloc[0]


def _flat(name: str, est: Estimate) -> dict:
    return {name: est.value, f"{name}_low": est.low, f"{name}_high": est.high}


def business_figures(
    alerts: dict[str, pd.DataFrame], incidents: pd.DataFrame, start, end, *, window, settings: BusinessSettings | None = None,
    period: str = "month", old: str = "baseline", new: str = "hybrid", services: list[str] | None = None, seed: int = 0,
) -> BusinessFigures:  # fmt: skip
    """Every business figure of systems ``old`` and ``new`` over ``[start, end)`` (see the module notes).

    Parameters
    ----------
    alerts
        ``{system: alerts}`` with at least ``old`` and ``new``; each frame has ``service, start,
        end, action`` and ``detected_at`` (else ``start`` is taken), tz-aware.
    incidents
        The labelled incidents (``id, service, start, end``, tz-aware); those starting in the span count.
    start, end
        The evaluated span (tz-aware), e.g. ``Evaluation.start`` and ``Evaluation.end``.
    window
        The analysis window width: an alert up to one window after an incident's end still belongs to it.
    settings
        Toil minutes, hourly cost, business hours and nights, bootstrap size.
    period
        ``month`` or ``week``: how the trend is cut.
    services
        Their order in the table (default: as they first appear in the alerts, then the incidents).
    seed
        Seed of every bootstrap: the same seed gives the same intervals.
    """
    settings = settings or BusinessSettings()
    cut = _period(period)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if start.tzinfo is None or end.tzinfo is None:
        raise DataError("start and end need a time zone (UTC)")
    if end <= start:
        raise DataError(f"empty span: end {end} is not after start {start}")
    missing = [s for s in (old, new) if s not in alerts]
    if missing:
        raise DataError(f"no alerts given for {missing}; got {sorted(alerts)}")
    systems = {old: alerts[old], new: alerts[new]}
    outcomes = incident_outcomes(systems, incidents, start, end, window=window, period=cut)
    pages = pd.concat([page_log(frame, start, end, settings=settings, period=cut).assign(system=name) for name, frame in systems.items()], ignore_index=True)
    stretches = _stretches(start, end, cut)
    stretches["period"] = stretches["period"].astype(object)
    known = list(dict.fromkeys([*pages["service"], *outcomes["service"]]))
    services = [*(services or known), *(s for s in known if s not in (services or known))]
    boot = {"n_boot": settings.bootstrap, "seed": seed}
    rows, comparisons = [], []
    for label in [*(p for p in stretches["period"].unique() if p != ALL), ALL]:
        spans = stretches[stretches["period"] == label]
        inc_p = outcomes if label == ALL else outcomes[outcomes["period"] == label]
        pages_p = pages if label == ALL else pages[pages["period"] == label]
        for service in [*services, ALL]:
            inc = inc_p if service == ALL else inc_p[inc_p["service"] == service]
            for system in systems:
                log = pages_p[(pages_p["system"] == system) & ((pages_p["service"] == service) if service != ALL else True)]
                rows.append(_row(label, service, system, inc, log, spans, settings, boot))
        per = {system: _per_stretch(pages_p[pages_p["system"] == system], spans) for system in systems}
        for figure, a, b, stat, unit in [
            ("pages per week", per[old]["pages"], per[new]["pages"], "rate", "weeks"),
            ("toil hours per week", per[old]["toil"], per[new]["toil"], "rate", "weeks"),
            ("time to detect, median", inc_p[f"detect_{old}"], inc_p[f"detect_{new}"], "median", "incidents"),
        ]:
            result = compare_figure(a.to_numpy(), b.to_numpy(), stat=stat, unit=unit, weeks=spans["weeks"].to_numpy() if stat == "rate" else None, **boot)
            comparisons.append({"period": label, "figure": figure, **result.__dict__})
    return BusinessFigures(pd.DataFrame(rows), pd.DataFrame(comparisons), outcomes, pages, start, end, old, new, cut, settings)


def _ns(times) -> np.ndarray:
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def _per_stretch(log: pd.DataFrame, spans: pd.DataFrame) -> pd.DataFrame:
    """Pages and toil hours in each of ``spans`` (contiguous, in order), by the alert's start."""
    where = np.searchsorted(_ns(spans["from"]), _ns(log["start"]), side="right") - 1
    inside = (where >= 0) & (_ns(log["start"]) < _ns(spans["to"])[np.maximum(where, 0)])
    pages = np.bincount(where[inside], weights=log["page"].to_numpy(dtype=float)[inside], minlength=len(spans))
    toil = np.bincount(where[inside], weights=log["toil_minutes"].to_numpy(dtype=float)[inside], minlength=len(spans)) / 60
    return pd.DataFrame({"pages": pages, "toil": toil}, index=spans.index)


def _row(label, service, system, incidents, log, spans, settings: BusinessSettings, boot) -> dict:
    per = _per_stretch(log, spans)
    toil = rate(per["toil"], spans["weeks"], **boot)
    row = {"period": label, "service": service, "system": system, "weeks": float(spans["weeks"].sum()), "incidents": len(incidents), "missed": int(incidents[f"detect_{system}"].isna().sum())}
    for name, values in (("detect", incidents[f"detect_{system}"]), ("resolve", incidents["resolve_minutes"])):
        for stat in STATS:
            est = estimate(values, stat, **boot)
            row |= _flat(f"{name}_{stat}", est)
        row[f"{name}_n"] = est.n
    row |= {"pages": int(log["page"].sum()), "outside_hours": int(log["outside_hours"].sum()), "night": int(log["night"].sum()), "investigations": int(log["investigate"].sum())}
    row |= _flat("pages_per_week", rate(per["pages"], spans["weeks"], **boot)) | _flat("toil_hours_per_week", toil)
    row |= _flat("cost_per_week", Estimate(*(x * settings.hourly_cost for x in (toil.value, toil.low, toil.high)), toil.n))
    row["weeks_n"] = len(spans)
    return row
