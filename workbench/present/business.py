"""What the 09 report shows leaders: the answer in one sentence, the trend by period, the detail per service.

Everything is read from :class:`~workbench.evaluate.business.BusinessFigures`; this module only
words it. A change is said ("cut pages from 30 to 1.4 a week") only when
:func:`~workbench.evaluate.estimates.compare_figure` calls it better or worse; when its interval
covers no change the words are "not enough weeks (incidents) to tell". Every figure in a table
comes with its 90 % interval ("1.4 (0.5 to 2.4)") and the table says its n.
"""

from __future__ import annotations

import math

import pandas as pd

from workbench.evaluate.business import ALL, STATS, BusinessFigures
from workbench.present.evaluation import SYSTEM_NAMES
from workbench.present.headline import ANSWER, Measure
from workbench.present.tables import DASH

__all__ = ["business_answer", "business_headline", "business_measures", "change_table", "detect_table", "pages_table", "resolve_table", "trend_table"]

STAT_WORDS = {"median": "median", "p90": "90th percentile", "geomean": "geometric mean"}


def _num(value: float) -> str:
    """A figure as a person says it: "30", "1.4", "0"; whole from 10 up."""
    if value is None or not math.isfinite(value):
        return DASH
    if abs(value) >= 10 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.1f}".rstrip("0").rstrip(".") if abs(value) >= 0.05 else "0"


def _money(value: float, currency: str) -> str:
    """"$1,300": two significant figures from 100 up (the inputs are judgement values)."""
    if value is None or not math.isfinite(value):
        return DASH
    rounded = float(f"{value:.2g}") if abs(value) >= 100 else round(value)
    return f"{'-' if rounded < 0 else ''}{currency}{abs(rounded):,.0f}"


def _with_interval(value: float, low: float, high: float, fmt=_num) -> str:
    """"1.4 (0.5 to 2.4)"; without an interval (fewer than two units) the figure alone; nothing: a dash."""
    if value is None or not math.isfinite(value):
        return DASH
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return fmt(value)
    return f"{fmt(value)} ({fmt(low)} to {fmt(high)})"


def _figure(row: pd.Series, name: str, fmt=_num) -> str:
    return _with_interval(row[name], row[f"{name}_low"], row[f"{name}_high"], fmt)


def _system(name: str) -> str:
    return SYSTEM_NAMES.get(name, name)


def _period_words(period, cut: str) -> str:
    """"Sep 2026", "week of 2026-09-14", or "all" for the whole span."""
    if period == ALL:
        return "all"
    return f"{pd.Timestamp(period):%b %Y}" if cut == "month" else f"week of {pd.Timestamp(period):%Y-%m-%d}"


def _cut(figures: BusinessFigures) -> str:
    return str(figures.period)


# -- the answer ------------------------------------------------------------------------------


def _hours(value: float) -> str:
    return f"{_num(value)} hour{'' if _num(value) == '1' else 's'}"


def _times(value: float) -> str:
    return "once" if _num(value) == "1" else f"{_num(value)} times"


def _pages_clause(figures: BusinessFigures) -> str:
    """What the new system does to pages, after "would"."""
    c, old, new = figures.comparison("pages per week"), figures.row(figures.old), figures.row(figures.new)
    if old["pages"] == 0 and new["pages"] == 0:
        return "page no one, nor would the old thresholds"
    was, now = _num(c["old"]), _num(c["new"])
    if c["verdict"] == "better":
        return f"cut pages from {was} to {now} a week"
    if c["verdict"] == "worse":
        return f"raise pages from {was} to {now} a week"
    return f"page on-call {_times(c['new'])} a week against the old thresholds' {was}, but there are {c['verdict']} whether that is a change"


def _misses_clause(figures: BusinessFigures) -> str:
    """What the new system missed, after "would"; empty without labelled incidents."""
    old, new = figures.row(figures.old), figures.row(figures.new)
    total, missed, was = int(new["incidents"]), int(new["missed"]), int(old["missed"])
    if not total:
        return ""
    said = ("miss the one incident" if missed else "catch the one incident") if total == 1 else f"miss {missed or 'none'} of {total} incidents"
    return said + (f" (the old thresholds missed {was or 'none'})" if was != missed else "")


def _toil_clause(figures: BusinessFigures) -> str:
    c, money = figures.comparison("toil hours per week"), figures.settings.hourly_cost
    currency = figures.settings.currency
    if c["old"] == 0 and c["new"] == 0:
        return "alerts would take none of on-call's time"
    hours, cost = abs(c["change"]), _money(abs(c["change"]) * money, currency)
    if c["verdict"] == "better":
        return f"on-call would spend {_hours(hours).replace('hour', 'fewer hour', 1)} a week on alerts, worth {cost} a week"
    if c["verdict"] == "worse":
        return f"on-call would spend {_hours(hours).replace('hour', 'more hour', 1)} a week on alerts, costing {cost} a week more"
    return f"on-call would spend {_hours(c['new'])} a week on alerts against {_num(c['old'])}, but there are {c['verdict']} whether that is a change"


def _detect_clause(figures: BusinessFigures) -> str:
    c = figures.comparison("time to detect, median")
    if not (math.isfinite(c["old"]) and math.isfinite(c["new"])):
        return ""
    minutes = abs(c["change"])
    amount = "1 minute" if round(minutes) == 1 else f"{minutes:.0f} minutes"
    if c["verdict"] == "better":
        return f"it detects incidents {amount} sooner (median {_num(c['new'])} against {_num(c['old'])} minutes)"
    if c["verdict"] == "worse":
        return f"it detects incidents {amount} later (median {_num(c['new'])} against {_num(c['old'])} minutes)"
    return f"there are {c['verdict']} whether it detects incidents sooner or later (median {_num(c['new'])} against {_num(c['old'])} minutes)"


def business_answer(figures: BusinessFigures) -> str:
    """The 09 answer in one plain sentence, from the figures; a change only where its interval rules out none.

    E.g. "Over 6.6 weeks of replayed history, the hybrid would miss none of 30 incidents (the
    old thresholds missed 4) and cut pages from 30 to 1.4 a week; on-call would spend 13 fewer
    hours a week on alerts, worth $1,300 a week; it detects incidents 26 minutes later (median
    30 against 4 minutes)."
    """
    weeks = figures.weeks
    lead = f"Over {_num(weeks)} week{'' if _num(weeks) == '1' else 's'} of replayed history, the {_system(figures.new)} would"
    misses, pages = _misses_clause(figures), _pages_clause(figures)
    parts = [f"{lead} {misses} and {pages}" if misses else f"{lead} {pages}"]
    if not misses:
        parts.append("there were no labelled incidents to judge misses by")
    parts.append(_toil_clause(figures))
    detect = _detect_clause(figures)
    return "; ".join([*parts, *([detect] if detect else [])]) + "."


def business_headline(figures: BusinessFigures) -> dict:
    """The answer and a few figures for :func:`~workbench.present.headline.show_headline`."""
    old, new, currency = figures.row(figures.old), figures.row(figures.new), figures.settings.currency
    detect = f"{_num(new['detect_median'])} min (old: {_num(old['detect_median'])} min)" if new["detect_n"] else "none detected"
    return {
        ANSWER: business_answer(figures),
        "pages a week": f"{_num(new['pages_per_week'])} (old: {_num(old['pages_per_week'])})",
        "missed incidents": f"{int(new['missed'])} of {int(new['incidents'])} (old: {int(old['missed'])})" if new["incidents"] else "no labelled incidents",
        "on-call hours a week": f"{_num(new['toil_hours_per_week'])} (old: {_num(old['toil_hours_per_week'])})",
        "cost a week": f"{_money(new['cost_per_week'], currency)} (old: {_money(old['cost_per_week'], currency)})",
        "time to detect, median": detect,
        "weeks replayed": round(figures.weeks, 1),
    }


def business_measures(figures: BusinessFigures) -> list[Measure]:
    """The new system's figures the run index follows: pages and on-call hours per week (lower is better)."""
    new = figures.row(figures.new)
    return [Measure("pages per week", float(new["pages_per_week"]), better="lower"), Measure("toil hours per week", float(new["toil_hours_per_week"]), better="lower")]


# -- the tables ------------------------------------------------------------------------------


def change_table(figures: BusinessFigures) -> pd.DataFrame:
    """Old against new, per period and over the whole span (all services): each figure, the change and its 95 % interval, the verdict."""
    cut, c = _cut(figures), figures.comparisons
    names = {"pages per week": "pages a week", "toil hours per week": "on-call hours a week", "time to detect, median": "time to detect, median (min)"}
    return pd.DataFrame(
        {
            cut: [_period_words(p, cut) for p in c["period"]],
            "figure": [names.get(f, f) for f in c["figure"]],
            _system(figures.old): c["old"].map(_num),
            _system(figures.new): c["new"].map(_num),
            "change (95 % interval)": [_with_interval(r.change, r.low, r.high, _signed) for r in c.itertuples()],
            "resampled (n)": [f"{r.n} {r.unit}" for r in c.itertuples()],
            "verdict": c["verdict"],
        }
    )


def _signed(value: float) -> str:
    return DASH if not math.isfinite(value) else ("0" if _num(abs(value)) == "0" else f"{'+' if value > 0 else '−'}{_num(abs(value))}")


def _rows(figures: BusinessFigures, *, period=None, service=None) -> pd.DataFrame:
    t = figures.table
    if period is not None:
        t = t[t["period"].map(lambda p: p == period)]
    if service is not None:
        t = t[t["service"] == service]
    return t


def trend_table(figures: BusinessFigures) -> pd.DataFrame:
    """By period, all services, each system: pages, on-call time and its cost, incidents missed, time to detect; 90 % intervals in brackets."""
    cut, currency = _cut(figures), figures.settings.currency
    t = _rows(figures, service=ALL)
    return pd.DataFrame(
        {
            cut: [_period_words(p, cut) for p in t["period"]],
            "system": t["system"].map(_system),
            "weeks": t["weeks"].round(1),
            "pages a week": [_figure(r, "pages_per_week") for _, r in t.iterrows()],
            "outside business hours": t["pages"].combine(t["outside_hours"], lambda n, k: _part(k, n)),
            "at night": t["pages"].combine(t["night"], lambda n, k: _part(k, n)),
            "on-call hours a week": [_figure(r, "toil_hours_per_week") for _, r in t.iterrows()],
            f"cost a week ({currency})": [_figure(r, "cost_per_week", _whole) for _, r in t.iterrows()],
            "incidents": t["incidents"].astype(int),
            "missed": t["missed"].astype(int),
            "time to detect, median (min)": [_figure(r, "detect_median") for _, r in t.iterrows()],
            "detected (n)": t["detect_n"].astype(int),
        }
    ).reset_index(drop=True)


def _whole(value: float) -> str:
    return DASH if not math.isfinite(value) else f"{value:,.0f}"


def _part(k: int, n: int) -> str:
    """"3 of 9 pages"; none when there were no pages."""
    return "no pages" if not n else f"{int(k)} of {int(n)}"


def pages_table(figures: BusinessFigures) -> pd.DataFrame:
    """Over the whole span, per service and system: pages, when they rang, investigations, on-call time and its cost."""
    currency = figures.settings.currency
    t = _rows(figures, period=ALL)
    return pd.DataFrame(
        {
            "service": t["service"].replace({ALL: "all services"}),
            "system": t["system"].map(_system),
            "pages": t["pages"].astype(int),
            "pages a week": [_figure(r, "pages_per_week") for _, r in t.iterrows()],
            "outside business hours": t["outside_hours"].astype(int),
            "at night": t["night"].astype(int),
            "investigations (no page)": t["investigations"].astype(int),
            "on-call hours a week": [_figure(r, "toil_hours_per_week") for _, r in t.iterrows()],
            f"cost a week ({currency})": [_figure(r, "cost_per_week", _whole) for _, r in t.iterrows()],
        }
    ).reset_index(drop=True)


def detect_table(figures: BusinessFigures) -> pd.DataFrame:
    """Over the whole span, per service and system: incidents, missed, and time to detect as median, 90th percentile and geometric mean (min)."""
    t = _rows(figures, period=ALL)
    out = pd.DataFrame({"service": t["service"].replace({ALL: "all services"}), "system": t["system"].map(_system), "incidents": t["incidents"].astype(int), "missed": t["missed"].astype(int), "detected (n)": t["detect_n"].astype(int)})
    for stat in STATS:
        out[f"time to detect, {STAT_WORDS[stat]} (min)"] = [_figure(r, f"detect_{stat}") for _, r in t.iterrows()]
    return out.reset_index(drop=True)


def resolve_table(figures: BusinessFigures, by: str = "service") -> pd.DataFrame:
    """Time to resolve (labelled end minus start, min) by ``service`` over the whole span, or by ``period`` over all services; n = incidents."""
    cut = _cut(figures)
    t = _rows(figures, period=ALL) if by == "service" else _rows(figures, service=ALL)
    t = t[t["system"] == figures.new]  # the same incidents for both systems
    first = t["service"].replace({ALL: "all services"}) if by == "service" else t["period"].map(lambda p: _period_words(p, cut))
    out = pd.DataFrame({"service" if by == "service" else cut: first, "incidents (n)": t["resolve_n"].astype(int)})
    for stat in STATS:
        out[f"time to resolve, {STAT_WORDS[stat]} (min)"] = [_figure(r, f"resolve_{stat}") for _, r in t.iterrows()]
    return out.reset_index(drop=True)
