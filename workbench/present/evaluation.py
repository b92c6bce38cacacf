"""What the 04 report shows beyond its headline: the systems per service with a fleet total,
each alert in words, and the figures the run index follows from run to run.

The figures themselves come from :mod:`workbench.evaluate.events`; this module only cuts them
per service and words them for a reader.
"""

from __future__ import annotations

import pandas as pd

from workbench.evaluate.events import compare
from workbench.evaluate.replay import Evaluation, ServiceRun
from workbench.present.headline import Measure
from workbench.present.words import rarity, rarity_of_tail, share

__all__ = ["ACTION_WORDS", "SYSTEM_NAMES", "alert_table", "evaluation_measures", "service_table"]

#: The three systems as a reader knows them.
SYSTEM_NAMES = {"baseline": "old thresholds", "model": "model alone", "hybrid": "hybrid"}
#: What each alert action means for the on-call engineer.
ACTION_WORDS = {"page": "page", "page_with_context": "page, with the model's context", "investigate": "investigate (no page)"}


def _minutes(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.0f}"


def _row(name: str, results: dict) -> dict:
    old, new = results["baseline"], results["hybrid"]
    labelled = bool(new["incidents"])
    change = new.get("volume_change")
    return {
        "service": name,
        "labelled incidents": new["incidents"],
        "old alerts per week": old["alerts_per_week"],
        "new alerts per week": new["alerts_per_week"],
        "change": "—" if change is None else f"{100 * change:+.0f} %",
        "false alarms": share(new["fp_share"]) if labelled and new["alerts"] else "—",
        "missed": f"{len(new['missed_incidents'])} of {new['incidents']}" if labelled else "no labels yet",
        "caught by old, missed by new": len(results["summary"].get("regressions", [])),
        "time to detect, median (min)": f"{_minutes(new['ttd_median_minutes'])} (old: {_minutes(old['ttd_median_minutes'])})" if labelled else "—",
    }


def service_table(evaluation: Evaluation, window: str | pd.Timedelta) -> pd.DataFrame:
    """The hybrid against the old thresholds for each service, then ``all services``.

    Each service is measured over the same span as the whole (``evaluation.start`` to
    ``evaluation.end``), so its alerts per week add up to the total's.
    """
    rows = []
    for service in evaluation.runs:
        alerts = {name: frame[frame["service"] == service] for name, frame in evaluation.alerts.items()}
        incidents = evaluation.incidents[evaluation.incidents["service"] == service]
        rows.append(_row(service, compare(alerts, incidents, evaluation.start, evaluation.end, window=window)))
    rows.append(_row("all services", evaluation.results))
    return pd.DataFrame(rows)


def alert_table(run: ServiceRun, system: str = "hybrid") -> pd.DataFrame:
    """One service's alerts for a reader: when, what it asked for, how unusual, why.

    ``how unusual`` words the alert's most unusual window as how rarely a normal week shows
    one like it (:func:`~workbench.present.words.rarity_of_tail`, from the window's
    calibrated tail probability, ``run.scores["raw"]``, and the calibration period of the
    model that scored it): unlike the confidence, which reads 100 for most alerts, it keeps
    ranking them. A rules-only alert has none.
    """
    alerts, scores = run.alerts[system], run.scores

    def worst(alert) -> str:
        if pd.isna(alert["confidence"]):
            return "—"  # the rules alone: no model verdict
        raw = scores.loc[alert["start"] : alert["end"] - pd.Timedelta("1ns"), "raw"].dropna()
        model = run.model_at(raw.idxmin()) if len(raw) else None
        if model is None:
            return rarity(alert["confidence"])
        return rarity_of_tail(float(raw.min()), model.detector.confidence_period)

    out = pd.DataFrame(
        {
            "from": alerts["start"],
            "to": alerts["end"],
            "asks for": alerts["action"].map(lambda a: ACTION_WORDS.get(str(a), str(a))),
            "how unusual": [worst(alert) for _, alert in alerts.iterrows()],
            "rules that fired": alerts["rules"].fillna("").replace("", "—"),
            "what the model saw": alerts["top_features"].fillna("").replace("", "—"),
        }
    )
    return out.reset_index(drop=True)


def evaluation_measures(results: dict) -> list[Measure]:
    """The hybrid's figures the run index follows across runs (none without labels but volume)."""
    hybrid = results["hybrid"]
    measures = [Measure("alerts per week", hybrid["alerts_per_week"])]
    if hybrid["incidents"]:
        measures += [
            Measure("false-positive share", hybrid["fp_share"], percent=True),
            Measure("missed incidents", float(len(hybrid["missed_incidents"]))),
        ]
        if hybrid["ttd_median_minutes"] is not None:
            measures.append(Measure("median time to detect (min)", hybrid["ttd_median_minutes"]))
    return measures
