from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from workbench.present.summaries import (
    EVENT_TABLE,
    GAP_TABLE,
    INCIDENT_TABLE,
    VERSIONS_TABLE,
    event_table,
    gap_table,
    incident_table,
    metric_summary,
    model_summary,
    range_summary,
    versions_table,
)
from workbench.present.tables import plain_table


@pytest.fixture()
def fortnight():
    index = pd.date_range("2026-01-05", periods=14 * 24 * 60, freq="1min", tz="UTC", name="timestamp")
    hours = index.hour + index.minute / 60
    daily = 100 + 50 * np.sin(2 * np.pi * hours / 24)  # swing 100 around a median of 100
    weekend = np.where(index.day_of_week >= 5, 0.5, 1.0)
    frame = pd.DataFrame({"request_rate": daily * weekend, "cpu_usage": np.full(len(index), 40.0)}, index=index)
    return frame.drop(frame.index[100:130])  # one 30-minute gap


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


NO_EVENTS = pd.DataFrame(columns=["start", "end", "service", "type", "description"])
NO_INCIDENTS = pd.DataFrame(columns=["id", "service", "start", "end", "severity", "cause", "resolution", "labelled_by"])


def test_levels_swings_and_gaps(fortnight):
    table = metric_summary(fortnight)
    assert isinstance(table.index, pd.RangeIndex)  # no index column for the reader
    table = table.set_index("metric")
    cpu = table.loc["CPU"]
    assert cpu["unit"] == "%" and cpu["typical (median)"] == 40.0
    assert cpu["daily swing (%)"] == 0.0 and cpu["weekly swing (%)"] == 0.0  # constant series: no swing, no error
    rr = table.loc["request rate"]
    assert rr["weekly swing (%)"] > 40  # weekends at half
    assert rr["daily swing (%)"] > 80
    assert rr["longest gap (min)"] == 30.0
    assert rr["missing (%)"] == pytest.approx(30 / (14 * 24 * 60) * 100, abs=0.01)


def test_short_ranges_have_no_weekly_swing(fortnight):
    table = metric_summary(fortnight.iloc[: 2 * 24 * 60]).set_index("metric")
    assert np.isnan(table.loc["request rate", "weekly swing (%)"])
    assert plain_table(table.reset_index())["weekly swing (%)"].tolist() == ["—", "—"]  # a dash, never "nan"


def test_range_summary_counts(fortnight):
    events = pd.DataFrame({"type": ["deploy", "deploy", "campaign"]})
    summary = range_summary("checkout", fortnight, pd.DataFrame({"id": ["INC-1"]}), events)
    assert summary["incidents"] == 1 and summary["deploys"] == 2 and summary["campaigns"] == 1
    assert summary["days"] == 14.0
    assert summary["from"] == "2026-01-05 00:00"  # the report states its timezone once, in prose
    assert summary["answer"] == (
        "checkout had 1 labelled incident, 2 deploys, 1 campaign and no maintenance windows over 14 days; "
        "its data are 99.9 % complete, the longest gap 30 minutes."
    )


def test_range_answer_when_nothing_happened_and_nothing_is_missing(fortnight):
    whole = fortnight.iloc[200 : 200 + 36 * 60]  # a day and a half, after the gap
    summary = range_summary("search", whole, NO_INCIDENTS, NO_EVENTS)
    assert summary["answer"] == (
        "search had no labelled incidents, deploys, campaigns or maintenance windows over 36 hours; its data are complete, with no gaps."
    )


def test_completeness_is_never_rounded_up_to_whole(fortnight):
    one_missing = fortnight.iloc[200:].drop(fortnight.index[300])  # 1 missing minute in about 20,000: 99.995 %
    answer = range_summary("checkout", one_missing, NO_INCIDENTS, NO_EVENTS)["answer"]
    assert "99.99 % complete" in answer and "the longest gap 1 minute." in answer


def test_incident_table_is_plain_and_whole():
    cause = "latency_spike: hung connection to payment provider after the failover drill"
    incidents = pd.DataFrame({
        "id": ["INC-2", "INC-1"], "service": ["checkout"] * 2,
        "start": [_utc("2026-10-19 20:16"), _utc("2026-09-17 04:04")], "end": [_utc("2026-10-19 20:29"), _utc("2026-09-17 06:34")],
        "severity": ["critical", "major"], "cause": [cause, "night_cpu_saturation: batch"], "resolution": ["query killed", ""],
        "labelled_by": ["ana", "sample-generator"],
    }, index=[7, 3])
    table = incident_table(incidents)
    assert list(table.columns) == INCIDENT_TABLE and isinstance(table.index, pd.RangeIndex)
    shown = plain_table(table)
    assert shown["id"].tolist() == ["INC-1", "INC-2"]  # earliest first
    assert shown["start"].tolist() == ["2026-09-17 04:04", "2026-10-19 20:16"]  # no +00:00
    assert shown["lasted"].tolist() == ["2.5 h", "13 min"]
    assert shown["cause"].tolist()[1] == cause  # never cut short
    assert incident_table(NO_INCIDENTS).empty and list(incident_table(NO_INCIDENTS).columns) == INCIDENT_TABLE


def test_event_table_keeps_the_types_asked_for_and_names_all_services():
    events = pd.DataFrame({
        "start": [_utc("2026-09-11 10:30"), _utc("2026-09-12 10:00"), _utc("2026-10-07 01:29")],
        "end": [_utc("2026-09-11 13:50"), _utc("2026-09-12 10:05"), _utc("2026-10-07 02:20")],
        "service": ["*", "checkout", "checkout"], "type": ["campaign", "deploy", "maintenance"],
        "description": ["site-wide sale", "v2", "node rotation"],
    }, index=[4, 9, 15])
    table = event_table(events, types=("campaign", "maintenance"))
    assert list(table.columns) == EVENT_TABLE and isinstance(table.index, pd.RangeIndex)
    assert table["applies to"].tolist() == ["all services", "checkout"] and table["type"].tolist() == ["campaign", "maintenance"]
    assert len(event_table(events)) == 3
    assert event_table(events, types=("nothing",)).empty and event_table(NO_EVENTS).empty


def test_gap_table_names_the_missing_metrics_in_words(fortnight):
    table = gap_table(fortnight)
    assert list(table.columns) == GAP_TABLE and isinstance(table.index, pd.RangeIndex)
    assert table["length (min)"].tolist() == [30] and table["metrics missing"].tolist() == ["all"]
    partly = fortnight.copy()
    partly.iloc[1000:1010, 1] = np.nan  # CPU alone, for 10 minutes
    assert gap_table(partly)["metrics missing"].tolist() == ["all", "CPU"]
    assert gap_table(fortnight.iloc[200:]).empty


def _model(saved_windows: int = 2748, left_out: int = 118, confidence: float = 75.0):
    """Hand-made figures in the shape of a trained ServiceModel."""
    return SimpleNamespace(
        service="checkout",
        trained_from=_utc("2026-09-30 23:45"),
        trained_to=_utc("2026-10-31 00:00"),
        training_windows=saved_windows,
        metadata={"removed_windows": left_out},
        features=SimpleNamespace(window_=pd.Timedelta("15min")),
        detector=SimpleNamespace(alarm_confidence=confidence),
    )


def test_model_summary_answers_first():
    summary = model_summary(_model(), "models/checkout/20261128T174451Z-a7ba")
    assert summary["answer"] == (
        "A new checkout model learned what normal looks like from 2,748 windows of 15 minutes "
        "(the 30 days to 2026-10-31; 118 windows of incidents and planned events left out); "
        "it raises an alarm for any window rarer than once in 4 normal weeks; saved as version 20261128T174451Z-a7ba."
    )
    assert summary["saved as"] == "20261128T174451Z-a7ba" and summary["trained from"] == "2026-09-30 23:45"
    assert not any("offset" in key or "raw" in key for key in summary)


def test_model_summary_not_saved_and_nothing_left_out():
    summary = model_summary(_model(left_out=0, confidence=99.0))
    assert "(the 30 days to 2026-10-31; nothing left out)" in summary["answer"]
    assert "rarer than once in 100 normal weeks" in summary["answer"] and summary["answer"].endswith("; not saved.")
    assert summary["saved as"] == "not saved"


def test_versions_table_newest_first_with_the_useful_columns():
    def version(k: int, card: bool = True) -> dict:
        meta = {"version": f"2026112{k}T100000Z-000{k}", "saved_at": f"2026-11-2{k}T10:00:00.123456+00:00", "sha256": f"{k}" * 64, "training windows": 10 * k}
        if card:
            meta["card"] = {"trained_from": "2026-09-30T23:45:00+00:00", "trained_to": "2026-10-31T00:00:00+00:00", "training_windows": 100 * k,
                            "calibration": {"alarm_confidence": 75.0, "alarm_raw_score": -3.4}}
        else:  # saved before model cards: only the headline facts
            meta.update({"trained from": "2026-09-01 00:00", "trained to": "2026-10-01 00:00", "alarm confidence": 99.0})
        return meta

    versions = [version(1, card=False)] + [version(k) for k in range(2, 8)]
    table = versions_table(versions)
    assert list(table.columns) == VERSIONS_TABLE and len(table) == 5
    assert table["version"].tolist() == [v["version"] for v in reversed(versions)][:5]  # newest first
    shown = plain_table(table)
    assert shown["saved at"][0] == "2026-11-27 10:00" and shown["trained to"][0] == "2026-10-31"
    assert shown["training windows"][0] == "700" and shown["sha256 (start)"][0] == "7" * 12
    assert shown["alarm at"][0] == "rarer than once in 4 normal weeks"
    old = plain_table(versions_table(versions, last=10)).iloc[-1]
    assert old["trained from"] == "2026-09-01 00:00" and old["training windows"] == "10" and old["alarm at"] == "rarer than once in 100 normal weeks"
    bare = plain_table(versions_table([{"version": "v"}])).iloc[0]
    assert bare.tolist() == ["v", "—", "—", "—", "—", "—", "—"]  # what a version does not record is a dash, never None
    assert versions_table([]).empty and list(versions_table([]).columns) == VERSIONS_TABLE
