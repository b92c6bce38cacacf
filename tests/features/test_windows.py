import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataError
from workbench.features.windows import (
    MAX_GRID_POINTS,
    find_gaps,
    infer_frequency,
    regular_grid,
    to_windows,
)


def minutes(n, start="2026-01-05T00:00Z", **columns):
    index = pd.date_range(start, periods=n, freq="1min", name="timestamp")
    return pd.DataFrame(columns, index=index)


def test_short_gaps_are_filled_and_long_ones_kept():
    frame = minutes(30, cpu_usage=np.arange(30.0))
    holes = frame.drop(frame.index[3:5]).drop(frame.index[10:20])  # 2-minute and 10-minute gaps
    grid = regular_grid(holes, max_fill="5min")
    assert len(grid) == 30
    assert grid["cpu_usage"].iloc[3:5].tolist() == [2.0, 2.0]  # filled from the last value
    assert grid["cpu_usage"].iloc[10:20].isna().all()  # not filled at all: longer than max_fill


def test_find_gaps_reports_each_run():
    frame = minutes(30, cpu_usage=np.arange(30.0), memory_usage=np.arange(30.0))
    frame.loc[frame.index[7], "memory_usage"] = np.nan  # one metric missing one minute
    frame = frame.drop(frame.index[10:20])
    gaps = find_gaps(frame.dropna(how="all"))
    assert gaps["minutes"].tolist() == [1.0, 10.0]
    assert gaps["start"].tolist() == [frame.index[7], pd.Timestamp("2026-01-05T00:10Z")]
    assert gaps["end"].iloc[1] == pd.Timestamp("2026-01-05T00:20Z")
    assert gaps["metrics"].tolist() == ["memory_usage", "cpu_usage, memory_usage"]


def test_no_gaps():
    assert find_gaps(minutes(5, cpu_usage=np.ones(5))).empty


def test_windows_use_each_metrics_aggregate():
    values = np.arange(30.0)
    frame = minutes(30, request_rate=values, latency_p99=values, memory_usage=values)
    out = to_windows(frame, "15min")
    assert out.index.tolist() == [pd.Timestamp("2026-01-05T00:00Z"), pd.Timestamp("2026-01-05T00:15Z")]
    assert out["request_rate"].tolist() == [7.0, 22.0]  # mean
    assert out["latency_p99"].tolist() == [14.0, 29.0]  # worst value
    assert out["memory_usage"].tolist() == [14.0, 29.0]


def test_windows_with_too_few_samples_are_empty():
    frame = minutes(30, cpu_usage=np.ones(30))
    frame = frame.drop(frame.index[15:25])  # second window keeps 5 of 15 samples
    out = to_windows(frame, "15min", max_fill="0min")
    assert out["cpu_usage"].tolist()[0] == 1.0
    assert np.isnan(out["cpu_usage"].tolist()[1])


def test_frequency_is_inferred_whatever_the_index_unit():
    frame = minutes(10, cpu_usage=np.ones(10))
    frame.index = frame.index.as_unit("s")
    assert infer_frequency(frame) == pd.Timedelta("1min")


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"cpu_usage": []}, index=pd.DatetimeIndex([], tz="UTC")), "empty"),
        (minutes(3, cpu_usage=np.ones(3)).tz_localize(None), "tz-aware"),
        (minutes(3, cpu_usage=np.ones(3)).iloc[::-1], "sorted"),
        (pd.concat([minutes(3, cpu_usage=np.ones(3))] * 2), "sorted and unique"),
        (minutes(1, cpu_usage=np.ones(1)), "two samples"),
    ],
    ids=["empty", "naive", "unsorted", "duplicated", "single-sample"],
)
def test_bad_frames(frame, message):
    with pytest.raises(DataError, match=message):
        to_windows(frame, "15min")


@pytest.mark.parametrize("window", ["soon", "7min", "30s"])
def test_bad_window(window):
    with pytest.raises(DataError, match="window"):
        to_windows(minutes(30, cpu_usage=np.ones(30)), window)


def test_jittered_scrape_timestamps_snap_to_the_grid():
    rng = np.random.default_rng(1)
    n = 4 * 60 * 6  # six hours of 15-second scrapes
    index = pd.date_range("2026-01-05T00:00Z", periods=n, freq="15s") + pd.to_timedelta(rng.uniform(-0.45, 0.45, n), unit="s")
    frame = pd.DataFrame({"cpu_usage": np.full(n, 40.0)}, index=index.sort_values())
    grid = regular_grid(frame)
    assert set(np.diff(grid.index)) == {pd.Timedelta("15s")} and grid["cpu_usage"].notna().all() and len(grid) == n
    windows = to_windows(frame, "15min")
    assert len(windows) == 24 and (windows["cpu_usage"] == 40.0).all()


def test_a_grid_too_large_to_be_true_is_refused_with_a_reason():
    # Two samples a microsecond apart, then a day later: a microsecond grid over a day.
    index = pd.DatetimeIndex(["2026-01-05T00:00:00", "2026-01-05T00:00:00.000001", "2026-01-05T00:00:00.000002", "2026-01-06"], tz="UTC")
    frame = pd.DataFrame({"cpu_usage": [1.0, 2.0, 3.0, 4.0]}, index=index)
    with pytest.raises(DataError, match=f"would hold .* points \\(at most {MAX_GRID_POINTS:,}\\): the sampling interval looks wrong"):
        to_windows(frame, "15min")
