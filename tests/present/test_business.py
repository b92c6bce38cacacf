"""09's answer sentence, headline, measures and tables (:mod:`workbench.present.business`) on
hand-made replays: a clear change, too few weeks, no incidents, no alerts, one service."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from workbench.contracts import ALERT_COLUMNS
from workbench.evaluate.business import business_figures
from workbench.present.business import (
    business_answer,
    business_headline,
    business_measures,
    change_table,
    detect_table,
    pages_table,
    resolve_table,
    trend_table,
)
from workbench.present.business_plots import business_trend
from workbench.present.tables import plain_table
from workbench.settings import BusinessSettings

START = pd.Timestamp("2026-03-02T00:00Z")  # a Monday
HOUR = pd.Timedelta(hours=1)


def replay(weeks: int, incidents: bool = True, old_false: int = 19, new_investigations: int = 2, services=("a",), **settings):
    """Each week, on each service: one incident on Monday 10:00-11:00 that the old thresholds page
    for after 5 min and the hybrid after 20 (with context); ``old_false`` other old pages and
    ``new_investigations`` hybrid investigations, away from the incident."""
    old, new, log = [], [], []
    for service in services:
        for w in range(weeks):
            monday = START + pd.Timedelta(days=7 * w) + 10 * HOUR
            if incidents:
                log.append({"id": f"{service}-{w}", "service": service, "start": monday, "end": monday + HOUR})
                old.append({"service": service, "start": monday, "end": monday + HOUR, "detected_at": monday + pd.Timedelta("5min"), "action": "page"})
                new.append({"service": service, "start": monday, "end": monday + HOUR, "detected_at": monday + pd.Timedelta("20min"), "action": "page_with_context"})
            for j in range(old_false):
                at = monday + pd.Timedelta(days=1) + 7 * j * HOUR
                old.append({"service": service, "start": at, "end": at + HOUR / 4, "detected_at": at, "action": "page"})
            for j in range(new_investigations):
                at = monday + pd.Timedelta(days=2) + 13 * j * HOUR
                new.append({"service": service, "start": at, "end": at + HOUR / 4, "detected_at": at, "action": "investigate"})
    frames = [pd.DataFrame(rows).reindex(columns=ALERT_COLUMNS) for rows in (old, new)]
    log = pd.DataFrame(log, columns=["id", "service", "start", "end"])
    end = START + pd.Timedelta(days=7 * weeks)
    return business_figures({"baseline": frames[0], "hybrid": frames[1]}, log, START, end, window="15min", settings=BusinessSettings(**settings))


def test_a_clear_change_in_one_sentence():
    # Old: 20 pages a week (10 h of toil); hybrid: 1 page and 2 investigations (1 h); detects in 20 min, not 5.
    assert business_answer(replay(8)) == (
        "Over 8 weeks of replayed history, the hybrid would miss none of 8 incidents and cut pages from 20 to 1 a week; "
        "on-call would spend 9 fewer hours a week on alerts, worth $900 a week; "
        "it detects incidents 15 minutes later (median 20 against 5 minutes)."
    )


def test_the_cost_follows_the_configured_rate_and_currency():
    assert "worth €1,800 a week" in business_answer(replay(8, hourly_cost=200, currency="€"))


def test_too_few_weeks_is_never_called_a_change():
    answer = business_answer(replay(2))
    assert "cut" not in answer and "fewer" not in answer and "minutes later" not in answer
    assert "page on-call once a week against the old thresholds' 20, but there are not enough weeks to tell whether that is a change" in answer
    assert "on-call would spend 1 hour a week on alerts against 10, but there are not enough weeks to tell" in answer
    assert "not enough incidents to tell whether it detects incidents sooner or later" in answer


def test_no_incidents_says_misses_cannot_be_judged():
    figures = replay(8, incidents=False)
    answer = business_answer(figures)
    assert answer == (
        "Over 8 weeks of replayed history, the hybrid would cut pages from 19 to 0 a week; "
        "there were no labelled incidents to judge misses by; "
        "on-call would spend 9 fewer hours a week on alerts, worth $900 a week."
    )
    headline = business_headline(figures)
    assert headline["missed incidents"] == "no labelled incidents" and headline["time to detect, median"] == "none detected"


def test_no_alerts_at_all():
    figures = replay(4, incidents=False, old_false=0, new_investigations=0)
    assert business_answer(figures) == (
        "Over 4 weeks of replayed history, the hybrid would page no one, nor would the old thresholds; "
        "there were no labelled incidents to judge misses by; alerts would take none of on-call's time."
    )
    assert [(m.name, m.value, m.better) for m in business_measures(figures)] == [("pages per week", 0.0, "lower"), ("toil hours per week", 0.0, "lower")]


def test_one_incident_is_worded_as_one():
    figures = replay(1)
    assert "would catch the one incident and page on-call once a week" in business_answer(figures)


def test_headline_and_measures():
    figures = replay(8)
    headline = business_headline(figures)
    assert headline["pages a week"] == "1 (old: 20)" and headline["missed incidents"] == "0 of 8 (old: 0)"
    assert headline["on-call hours a week"] == "1 (old: 10)" and headline["cost a week"] == "$100 (old: $1,000)"
    assert headline["time to detect, median"] == "20 min (old: 5 min)" and headline["weeks replayed"] == 8
    assert {m.name: m.value for m in business_measures(figures)} == {"pages per week": 1.0, "toil hours per week": 1.0}


@pytest.mark.parametrize("case", ["clear", "few weeks", "no incidents", "no alerts", "two services"])
def test_tables_read_plainly(case):
    figures = {
        "clear": lambda: replay(8),
        "few weeks": lambda: replay(2),
        "no incidents": lambda: replay(8, incidents=False),
        "no alerts": lambda: replay(4, incidents=False, old_false=0, new_investigations=0),
        "two services": lambda: replay(6, services=("a", "b")),
    }[case]()
    answer = business_answer(figures)
    assert "None" not in answer and "nan" not in answer and answer.endswith(".") and answer.count(".") == 1
    for table in (change_table(figures), trend_table(figures), pages_table(figures), detect_table(figures), resolve_table(figures), resolve_table(figures, by="period")):
        shown = plain_table(table)
        assert not shown.isin(["None", "nan", "NaN", "NaT"]).any().any(), table
        assert not table.isna().any().any()
    assert business_trend(figures).axes


def test_tables_give_each_figure_its_interval_and_n():
    figures = replay(6, services=("a", "b"))
    pages = pages_table(figures)
    assert pages["service"].tolist() == ["a", "a", "b", "b", "all services", "all services"]
    assert pages["system"].tolist()[:2] == ["old thresholds", "hybrid"]
    assert pages.loc[4, "pages a week"] == "40 (40 to 40)" and pages.loc[5, "investigations (no page)"] == 24
    detect = detect_table(figures)
    assert detect.loc[5, "detected (n)"] == 12 and detect.loc[5, "time to detect, median (min)"] == "20 (20 to 20)"
    changes = change_table(figures)
    changes = changes[changes["month"] == "all"].reset_index(drop=True)
    assert changes["verdict"].tolist() == ["better", "better", "worse"] and changes["resampled (n)"].tolist() == ["6 weeks", "6 weeks", "12 incidents"]
    assert changes.loc[0, "change (95 % interval)"] == "−38 (−38 to −38)"
    # Six weeks from 2 March: 30 days in March, 12 in April.
    trend = trend_table(figures)
    assert trend["month"].tolist() == ["Mar 2026", "Mar 2026", "Apr 2026", "Apr 2026", "all", "all"]
    assert trend["weeks"].tolist() == [4.3, 4.3, 1.7, 1.7, 6, 6]
