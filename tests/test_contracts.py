import numpy as np
import pandas as pd
import pytest

from workbench._util import to_utc as as_utc
from workbench.contracts import to_wide, validate_long
from workbench.errors import DataError


def long(rows):
    return pd.DataFrame(rows, columns=["timestamp", "service", "metric", "value"])


GOOD = [
    ("2026-01-01T00:00:00Z", "a", "cpu_usage", 1.0),
    ("2026-01-01T00:01:00Z", "a", "cpu_usage", 2.0),
]


def test_clean_frame_passes_and_is_utc():
    out = validate_long(long(GOOD))
    assert str(out["timestamp"].dt.tz) == "UTC"
    assert out["value"].tolist() == [1.0, 2.0]


def test_naive_timestamps_are_taken_as_utc():
    out = validate_long(long([("2026-01-01 00:00", "a", "cpu_usage", 1.0)]))
    assert out["timestamp"].iloc[0] == pd.Timestamp("2026-01-01T00:00Z")


def test_other_zones_are_converted():
    out = validate_long(long([("2026-01-01T02:00:00+02:00", "a", "cpu_usage", 1.0), ("2026-01-01T00:01:00Z", "a", "cpu_usage", 2.0)]))
    assert out["timestamp"].tolist() == [pd.Timestamp("2026-01-01T00:00Z"), pd.Timestamp("2026-01-01T00:01Z")]


def test_unsorted_rows_are_sorted():
    out = validate_long(long(GOOD[::-1]))
    assert out["value"].tolist() == [1.0, 2.0]


def test_exact_duplicates_are_dropped():
    assert len(validate_long(long(GOOD + GOOD))) == 2


def test_conflicting_duplicates_are_an_error():
    clash = [("2026-01-01T00:00:00Z", "a", "cpu_usage", 9.0)]
    with pytest.raises(DataError, match="different values for the same service, metric and timestamp"):
        validate_long(long(GOOD + clash))


def test_nan_values_become_gaps():
    out = validate_long(long(GOOD + [("2026-01-01T00:02:00Z", "a", "cpu_usage", np.nan)]))
    assert len(out) == 2


@pytest.mark.parametrize(
    "frame, message",
    [
        (long([]), "empty"),
        (long([("2026-01-01", "a", "cpu_usage", np.nan)]), "all NaN"),
        (pd.DataFrame({"timestamp": ["2026-01-01"], "value": [1.0]}), "lacks columns"),
        (long([("2026-01-01", "a", "cpu_usage", "high")]), "non-numeric"),
        (long([("2026-01-01", "a", "disk_io", 1.0)]), "unknown metrics"),
        (long([("not a time", "a", "cpu_usage", 1.0)]), "cannot parse"),
    ],
    ids=["empty", "all-nan", "missing-columns", "non-numeric", "unknown-metric", "bad-timestamp"],
)
def test_bad_frames_are_rejected(frame, message):
    with pytest.raises(DataError, match=message):
        validate_long(frame)


def test_to_wide_orders_columns_and_keeps_missing_metrics_absent():
    frame = validate_long(
        long(
            [
                ("2026-01-01T00:00Z", "a", "memory_usage", 5.0),
                ("2026-01-01T00:00Z", "a", "request_rate", 7.0),
                ("2026-01-01T00:00Z", "b", "cpu_usage", 1.0),
            ]
        )
    )
    wide = to_wide(frame, "a")
    assert list(wide.columns) == ["request_rate", "memory_usage"]
    assert wide.index.tz is not None and wide.index.name == "timestamp"
    with pytest.raises(DataError, match="no metrics for service 'c'"):
        to_wide(frame, "c")


def test_as_utc_on_index():
    idx = as_utc(pd.Index(["2026-01-01 00:00"]))
    assert idx[0] == pd.Timestamp("2026-01-01T00:00Z")


def test_to_wide_puts_each_metrics_jittered_scrapes_on_one_grid():
    import numpy as np

    from workbench._util import infer_step

    rng = np.random.default_rng(4)
    parts = []
    for metric in ("cpu_usage", "memory_usage", "request_rate"):
        stamps = pd.date_range("2026-10-01", periods=240, freq="15s", tz="UTC") + pd.to_timedelta(rng.uniform(0, 0.9, 240), unit="s")
        parts.append(pd.DataFrame({"timestamp": stamps, "service": "checkout", "metric": metric, "value": 1.0}))
    frame = pd.concat(parts, ignore_index=True)
    assert infer_step(pd.DatetimeIndex(frame["timestamp"]).sort_values()) < pd.Timedelta("1s")  # the union's step
    wide = to_wide(frame, "checkout")
    assert infer_step(wide.index) == pd.Timedelta("15s") and len(wide) == 240 and wide.notna().all().all()
