import pandas as pd
import pytest

from workbench.evaluate.events import (
    compare,
    comparison_table,
    event_metrics,
    missed_table,
)

T = pd.Timestamp("2026-01-05T00:00Z")


def at(minutes):
    return T + pd.Timedelta(minutes=minutes)


INCIDENTS = pd.DataFrame(
    {
        "id": ["I1", "I2"],
        "service": ["a", "a"],
        "start": [at(60), at(600)],
        "end": [at(120), at(660)],
        "severity": ["major", "minor"],
        "cause": ["x", "y"],
    }
)


def alerts(*spans):
    rows = [{"service": "a", "start": at(s), "end": at(e), "detected_at": at(d), "action": "page"} for s, e, d in spans]
    return pd.DataFrame(rows)


def test_golden_metrics():
    result = event_metrics(alerts((70, 90, 75), (300, 315, 300), (590, 700, 595)), INCIDENTS, T, T + pd.Timedelta(days=7), window="15min")
    assert result["alerts"] == 3 and result["alerts_per_week"] == 3.0
    assert result["fp_share"] == round(1 / 3, 3) and result["false_alerts"] == 1
    assert result["missed_incidents"] == []
    assert result["ttd_median_minutes"] == 7.5  # 15 min for I1; 0 for I2 (already open)
    assert result["ttd_worst_minutes"] == 15.0
    # Outside incidents: the false alert's 15 min, and the third alert's 10 min before I2 and 25 min after its grace.
    assert result["noise_hours_per_week"] == round((15 + 10 + 25) / 60, 1)


def test_an_alert_open_for_days_is_never_false_but_counts_its_hours_outside_incidents():
    always = alerts((0, 3 * 24 * 60, 0))
    result = event_metrics(always, INCIDENTS, T, T + pd.Timedelta(days=7), window="15min")
    assert result["fp_share"] == 0.0 and result["missed_incidents"] == [] and result["ttd_median_minutes"] == 0.0
    inside = (120 + 15 - 60) + (660 + 15 - 600)  # each incident plus its 15-minute grace
    assert result["noise_hours_per_week"] == round((3 * 24 * 60 - inside) / 60, 1)


def test_missed_and_regressions():
    base = alerts((70, 90, 75), (610, 620, 610))
    hybrid = alerts((70, 90, 62))
    result = compare({"baseline": base, "model": hybrid, "hybrid": hybrid}, INCIDENTS, T, T + pd.Timedelta(days=7), window="15min")
    assert result["hybrid"]["missed_incidents"] == ["I2"]
    assert result["summary"]["regressions"] == ["I2"]
    assert result["hybrid"]["volume_change"] == -0.5
    assert list(comparison_table(result).index) == ["baseline", "model", "hybrid"]
    table = missed_table(result, INCIDENTS)
    assert table["id"].tolist() == ["I2"] and table["old thresholds caught it"].tolist() == [True]


def test_another_services_alert_does_not_count():
    other = alerts((70, 90, 75)).assign(service="b")
    assert event_metrics(other, INCIDENTS, T, T + pd.Timedelta(days=7), window="15min")["missed_incidents"] == ["I1", "I2"]


def test_headline_without_labelled_incidents_says_so_instead_of_none():
    from workbench.evaluate.events import headline_figures

    none = INCIDENTS.iloc[:0]
    result = compare({"baseline": alerts((70, 90, 75), (300, 330, 300)), "model": alerts((70, 90, 75)), "hybrid": alerts((70, 90, 75))},
                     none, T, T + pd.Timedelta(days=7), window="15min")
    headline = headline_figures(result)
    assert headline["alert volume vs old thresholds"] == "-50 %" and headline["labelled incidents"].startswith("none yet: label incidents")
    assert headline["answer"] == (
        "The new alerting would have cut alerts by 50 %; with no labelled incidents yet, its false alarms, misses and "
        "time to detect cannot be measured: label incidents in 02_label_incidents."
    )
    assert "None" not in str(headline) and "nan" not in str(headline)
    table = comparison_table(result)
    assert set(table["false-positive share"]) == {"no labels yet"} and set(table["time to detect, median (min)"]) == {"no labels yet"}
    labelled = headline_figures(compare({n: alerts((70, 90, 75)) for n in ("baseline", "model", "hybrid")}, INCIDENTS, T,
                                        T + pd.Timedelta(days=7), window="15min"))
    assert labelled["median time to detect"] == "15 min (old: 15 min)"


def test_the_answer_sentence_is_computed_from_the_figures():
    from workbench.evaluate.events import answer_sentence, headline_figures

    result = compare({"baseline": alerts((70, 90, 75), (300, 330, 300), (610, 620, 610), (900, 910, 900)), "model": alerts((70, 90, 95)),
                      "hybrid": alerts((70, 90, 95))}, INCIDENTS, T, T + pd.Timedelta(days=7), window="15min")
    sentence = answer_sentence(result)
    assert sentence == ("The new alerting would have cut alerts by 75 % and missed 1 of the 2 labelled incidents (1 of which the old rules "
                        "caught); 0 % of its alerts were false alarms; it detects problems 22 minutes later than the old rules (median).")
    assert next(iter(headline_figures(result))) == "answer"


@pytest.mark.parametrize(("fraction", "sign", "words"), [(0.23, False, "23 %"), (0.996, False, ">99 %"), (0.002, False, "<1 %"), (-0.8, True, "-80 %"), (0.0, False, "0 %")])
def test_shares_are_never_rounded_into_all_or_none(fraction, sign, words):
    from workbench.evaluate.events import _pct

    assert _pct(fraction, sign=sign) == words


def test_a_one_minute_gap_is_one_minute():
    from workbench.evaluate.events import answer_sentence

    # The hybrid detects 1 minute after the old rules: one of the incidents, both caught.
    result = compare({"baseline": alerts((70, 90, 70)), "model": alerts((70, 90, 71)), "hybrid": alerts((70, 90, 71))},
                     INCIDENTS.iloc[:1], T, T + pd.Timedelta(days=7), window="15min")
    assert answer_sentence(result).endswith("it detects problems 1 minute later than the old rules (median).")
