"""Event-level comparison of alerting systems over labelled incidents.

For each system (the threshold baseline, the model alone, the hybrid):

* ``alerts_per_week``: alerts after grouping, per week of the evaluated period;
* ``fp_share``: share of alerts that overlap no incident of their service (an
  incident counts until one window after its labelled end);
* ``missed_incidents``: ids of incidents no alert overlaps;
* ``ttd_median_minutes`` / ``ttd_worst_minutes``: first alert minus incident start
  (0 when an alert was already open), over detected incidents;
* ``noise_hours_per_week``: hours alerts were open outside any incident. Counting alerts
  alone would reward a model that alerts all the time: one alert open for weeks overlaps
  every incident, is never "false" and detects everything at once.

``compare`` adds the reduction in alert volume against the baseline and lists every
incident the baseline caught and the hybrid missed (a regression, by name).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SYSTEMS", "compare", "comparison_table", "event_metrics", "headline_figures", "match_incidents", "missed_table", "noise_spans"]

#: The three alerting systems compared: the old thresholds, the model alone, the hybrid.
SYSTEMS = ("baseline", "model", "hybrid")


def match_incidents(alerts: pd.DataFrame, incidents: pd.DataFrame, grace: str | pd.Timedelta) -> tuple[pd.Series, pd.Series]:
    """For each alert, whether it overlaps an incident; for each incident, its time to detect (NaT = missed).

    An alert that starts within ``grace`` after an incident ended still belongs to it (the
    window in which the incident ended closes up to one window width later): pass the window.
    """
    grace = pd.Timedelta(grace)
    alert_hit = pd.Series(False, index=alerts.index)
    ttd = pd.Series(pd.NaT, index=incidents.index, dtype="timedelta64[ns]")
    for k, inc in incidents.iterrows():
        mine = alerts[alerts["service"] == inc["service"]]
        overlap = mine[(mine["start"] < inc["end"] + grace) & (mine["end"] > inc["start"])]
        if overlap.empty:
            continue
        alert_hit.loc[overlap.index] = True
        ttd.loc[k] = max(overlap["detected_at"].min() - inc["start"], pd.Timedelta(0))
    return alert_hit, ttd


def noise_spans(alerts: pd.DataFrame, incidents: pd.DataFrame, grace: str | pd.Timedelta) -> pd.DataFrame:
    """The stretches of alert time (``start``, ``end``) that overlap no incident of the alert's service.

    An incident extends ``grace`` past its labelled end, as in :func:`match_incidents`.
    """
    grace = pd.Timedelta(grace)
    pieces = []
    for alert in alerts.itertuples():
        spans = [(alert.start, alert.end)]
        for inc in incidents[incidents["service"] == alert.service].itertuples():
            lo, hi = inc.start, inc.end + grace
            spans = [part for s, e in spans for part in ([(s, e)] if e <= lo or s >= hi else [(s, lo), (hi, e)]) if part[1] > part[0]]
        pieces.extend(spans)
    return pd.DataFrame(pieces, columns=["start", "end"])


def event_metrics(alerts: pd.DataFrame, incidents: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, *, window: str | pd.Timedelta) -> dict:
    """The four figures for one system over ``[start, end)`` (alerts and incidents starting in it).

    ``window`` is the analysis window width, the grace after an incident's end (see :func:`match_incidents`).
    """
    alerts = alerts[(alerts["start"] >= start) & (alerts["start"] < end)]
    incidents_all = incidents  # an alert inside an incident that began just before the period is not noise
    incidents = incidents[(incidents["start"] >= start) & (incidents["start"] < end)]
    weeks = (end - start) / pd.Timedelta(days=7)
    hit, ttd = match_incidents(alerts, incidents, window)
    minutes = (ttd.dropna() / pd.Timedelta("1min")).to_numpy()
    return {
        "alerts": int(len(alerts)),
        "alerts_per_week": round(len(alerts) / weeks, 2) if weeks > 0 else None,
        "fp_share": round(float((~hit).mean()), 3) if len(alerts) else 0.0,
        "false_alerts": int((~hit).sum()),
        "incidents": int(len(incidents)),
        "missed_incidents": sorted(incidents.loc[ttd.isna(), "id"].tolist()),
        "ttd_median_minutes": round(float(np.median(minutes)), 1) if minutes.size else None,
        "ttd_worst_minutes": round(float(minutes.max()), 1) if minutes.size else None,
        "noise_hours_per_week": round(_hours(noise_spans(alerts, incidents_all, window)) / weeks, 1) if weeks > 0 else None,
        "by_action": alerts["action"].value_counts().to_dict(),
    }


def _hours(spans: pd.DataFrame) -> float:
    return float(((spans["end"] - spans["start"]) / pd.Timedelta(hours=1)).sum()) if len(spans) else 0.0


def compare(systems: dict[str, pd.DataFrame], incidents: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, *, window: str | pd.Timedelta) -> dict:
    """``{system: event_metrics}`` plus ``summary``: volume reduction and regressions against the baseline."""
    out = {name: event_metrics(alerts, incidents, start, end, window=window) for name, alerts in systems.items()}
    base = out.get("baseline")
    summary = {"from": str(start), "to": str(end), "weeks": round((end - start) / pd.Timedelta(days=7), 2)}
    if base:
        for name, result in out.items():
            if name == "baseline" or not base["alerts"]:
                continue
            result["volume_change"] = round(result["alerts"] / base["alerts"] - 1, 3)
        if "hybrid" in out:
            summary["regressions"] = sorted(set(out["hybrid"]["missed_incidents"]) - set(base["missed_incidents"]))
    out["summary"] = summary
    return out


def comparison_table(results: dict) -> pd.DataFrame:
    """The before/after table: one row per system."""
    rows = {}
    for name in SYSTEMS:
        r = results[name]
        # Without labelled incidents every alert would count as false and nothing as missed:
        # say there is nothing to judge by rather than show 100 % and 0.
        labelled = bool(r.get("incidents"))
        unknown = "no labels yet" if not labelled else "none caught"
        rows[name] = {
            "alerts per week": r["alerts_per_week"],
            "vs old thresholds": _pct(r["volume_change"], sign=True) if "volume_change" in r else "—",
            "false-positive share": _pct(r["fp_share"]) if labelled else "no labels yet",
            "missed incidents": len(r["missed_incidents"]) if labelled else "no labels yet",
            "time to detect, median (min)": unknown if r["ttd_median_minutes"] is None else r["ttd_median_minutes"],
            "time to detect, worst (min)": unknown if r["ttd_worst_minutes"] is None else r["ttd_worst_minutes"],
            "alert hours outside incidents, per week": r.get("noise_hours_per_week"),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "system"
    return table


def headline_figures(results: dict) -> dict:
    """The few numbers a leader reads first: the hybrid against the old thresholds."""
    base, hybrid = results["baseline"], results["hybrid"]
    if not hybrid["incidents"]:
        # Without labels there is nothing to be right or wrong about: say so, not "None min".
        change = hybrid.get("volume_change", 0)
        return {
            "answer": (
                f"The new alerting would have {_volume_words(change)}; with no labelled incidents yet, its false alarms, misses and "
                "time to detect cannot be measured: label incidents in 02_label_incidents."
            ),
            "alert volume vs old thresholds": _pct(change, sign=True),
            "labelled incidents": "none yet: label incidents in 02_label_incidents to measure false alarms, misses and time to detect",
            "weeks evaluated": results["summary"]["weeks"],
        }
    return {
        "answer": answer_sentence(results),
        "alert volume vs old thresholds": _pct(hybrid.get("volume_change", 0), sign=True),
        "false-positive share": f"{_pct(hybrid['fp_share'])} (was {_pct(base['fp_share'])})",
        "missed incidents": f"{len(hybrid['missed_incidents'])} of {hybrid['incidents']} (old: {len(base['missed_incidents'])})",
        "caught by old, missed by hybrid": len(results["summary"].get("regressions", [])),
        "median time to detect": f"{_minutes(hybrid['ttd_median_minutes'])} (old: {_minutes(base['ttd_median_minutes'])})",
        "weeks evaluated": results["summary"]["weeks"],
    }


def answer_sentence(results: dict) -> str:
    """04's answer in one plain sentence, computed from the figures (no incidents: see :func:`headline_figures`).

    E.g. "The new alerting would have cut alerts by 85 % and missed none of the 30 labelled
    incidents; 14 % of its alerts were false alarms; it detects problems 25 minutes later than
    the old rules (median)."
    """
    base, hybrid = results["baseline"], results["hybrid"]
    volume = _volume_words(hybrid.get("volume_change", 0))
    missed = len(hybrid["missed_incidents"])
    misses = f"missed none of the {hybrid['incidents']} labelled incidents" if not missed else f"missed {missed} of the {hybrid['incidents']} labelled incidents"
    regressions = len(results["summary"].get("regressions", []))
    if regressions:
        misses += f" ({regressions} of which the old rules caught)"
    ttd, old = hybrid["ttd_median_minutes"], base["ttd_median_minutes"]
    if ttd is None or old is None or pd.isna(ttd) or pd.isna(old):
        speed = ""
    elif abs(ttd - old) < 1:
        speed = "; it detects problems as fast as the old rules (median)"
    else:
        gap = round(abs(ttd - old))
        speed = f"; it detects problems {gap} minute{'' if gap == 1 else 's'} {'later' if ttd > old else 'sooner'} than the old rules (median)"
    return f"The new alerting would have {volume} and {misses}; {_pct(hybrid['fp_share'])} of its alerts were false alarms{speed}."


def _volume_words(change: float) -> str:
    """"cut alerts by 80 %", "raised alerts by 5 %" or "kept the number of alerts"."""
    if change < 0:
        return f"cut alerts by {_pct(-change)}"
    return f"raised alerts by {_pct(change)}" if change > 0 else "kept the number of alerts"


def _pct(fraction: float, sign: bool = False) -> str:
    """A share as a person writes it in these reports: "23 %", "-80 %" (``sign``: "+5 %").

    Never rounded into "all" or "none" it is not: 249 of 250 is ">99 %", 1 of 250 "<1 %".
    """
    percent = 100 * fraction
    if not sign and 99.5 <= percent < 100:
        return ">99 %"
    if not sign and 0 < percent < 0.5:
        return "<1 %"
    return f"{percent:{'+' if sign else ''}.0f} %"


def _minutes(value) -> str:
    return "none detected" if value is None or pd.isna(value) else f"{value:g} min"


def missed_table(results: dict, incidents: pd.DataFrame) -> pd.DataFrame:
    """Every incident the hybrid missed, by name, and whether the old thresholds caught it."""
    missed = incidents[incidents["id"].isin(results["hybrid"]["missed_incidents"])]
    out = missed[["id", "service", "start", "end", "severity", "cause"]].copy()
    out["old thresholds caught it"] = ~out["id"].isin(results["baseline"]["missed_incidents"])
    return out.reset_index(drop=True)
