import numpy as np
import pandas as pd
import pytest

from workbench.present.summaries import metric_summary, range_summary


@pytest.fixture()
def fortnight():
    index = pd.date_range("2026-01-05", periods=14 * 24 * 60, freq="1min", tz="UTC", name="timestamp")
    hours = index.hour + index.minute / 60
    daily = 100 + 50 * np.sin(2 * np.pi * hours / 24)  # swing 100 around a median of 100
    weekend = np.where(index.day_of_week >= 5, 0.5, 1.0)
    frame = pd.DataFrame({"request_rate": daily * weekend, "cpu_usage": np.full(len(index), 40.0)}, index=index)
    return frame.drop(frame.index[100:130])  # one 30-minute gap


def test_levels_swings_and_gaps(fortnight):
    table = metric_summary(fortnight)
    cpu = table.loc["cpu_usage"]
    assert cpu["unit"] == "%" and cpu["typical"] == 40.0
    assert cpu["daily swing %"] == 0.0 and cpu["weekly swing %"] == 0.0  # constant series: no swing, no error
    rr = table.loc["request_rate"]
    assert rr["weekly swing %"] > 40  # weekends at half
    assert rr["daily swing %"] > 80
    assert rr["longest gap (min)"] == 30.0
    assert rr["missing %"] == pytest.approx(30 / (14 * 24 * 60) * 100, abs=0.01)


def test_short_ranges_have_no_weekly_swing(fortnight):
    table = metric_summary(fortnight.iloc[: 2 * 24 * 60])
    assert np.isnan(table.loc["request_rate", "weekly swing %"])


def test_range_summary_counts(fortnight):
    events = pd.DataFrame({"type": ["deploy", "deploy", "campaign"]})
    summary = range_summary("checkout", fortnight, pd.DataFrame({"id": ["INC-1"]}), events)
    assert summary["incidents"] == 1 and summary["deploys"] == 2 and summary["campaigns"] == 1
    assert summary["days"] == 14.0
    assert summary["from"] == "2026-01-05 00:00 UTC"
