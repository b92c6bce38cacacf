"""Window context (:mod:`workbench.features.context`): time-of-week flags, deploys, campaigns and
maintenance per window, and the training filters that drop incidents and planned events.
"""

import numpy as np
import pandas as pd
import pytest

from workbench.features.context import context_flags, remove_incidents, remove_planned

T = pd.Timestamp
#: Monday 5 January 2026, 15-minute windows for one day.
DAY = pd.date_range("2026-01-05T00:00Z", periods=96, freq="15min")
COLUMNS = ["hour", "weekday", "business_hours", "deploy", "campaign", "maintenance"]


def events(*rows) -> pd.DataFrame:
    """An events calendar from ``(start, end, type)`` rows (service ``*``)."""
    return pd.DataFrame(
        {
            "start": pd.to_datetime([r[0] for r in rows], utc=True),
            "end": pd.to_datetime([r[1] for r in rows], utc=True),
            "service": "*",
            "type": [r[2] for r in rows],
            "description": "",
        },
        columns=["start", "end", "service", "type", "description"],
    )


def incidents(*rows) -> pd.DataFrame:
    return pd.DataFrame({"start": pd.to_datetime([r[0] for r in rows], utc=True), "end": pd.to_datetime([r[1] for r in rows], utc=True)})


def flagged(flags: pd.DataFrame, column: str) -> list[str]:
    """The window starts (HH:MM) with ``column`` set."""
    return [f"{t:%H:%M}" for t in flags.index[flags[column] == 1]]


def frame(index) -> pd.DataFrame:
    return pd.DataFrame({"cpu_usage": np.arange(len(index), dtype=float)}, index=index)


# -- context_flags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when, hour, weekday, business",
    [
        ("2026-01-05T08:45Z", 8, 0, 0),  # Monday, before nine
        ("2026-01-05T09:00Z", 9, 0, 1),
        ("2026-01-07T13:30Z", 13, 2, 1),
        ("2026-01-09T17:45Z", 17, 4, 1),  # Friday, the last business window
        ("2026-01-09T18:00Z", 18, 4, 0),
        ("2026-01-10T12:00Z", 12, 5, 0),  # Saturday
        ("2026-01-11T10:00Z", 10, 6, 0),  # Sunday
        ("2026-01-06T00:00Z", 0, 1, 0),
    ],
)
def test_time_of_week(when, hour, weekday, business):
    row = context_flags(pd.DatetimeIndex([T(when)]), events(), "15min").iloc[0]
    assert (row["hour"], row["weekday"], row["business_hours"]) == (hour, weekday, business)


def test_columns_index_and_no_events():
    flags = context_flags(DAY, events(), "15min")
    assert list(flags.columns) == COLUMNS and flags.index.equals(DAY)
    assert (flags[["deploy", "campaign", "maintenance"]] == 0).all().all()
    assert flags["business_hours"].sum() == 9 * 4  # 09:00 to 18:00 on a Monday


@pytest.mark.parametrize(
    "start, end, expected",
    [
        ("10:05", "10:10", ["10:00", "10:15"]),  # its window and the next
        ("10:00", "10:05", ["10:00", "10:15"]),
        ("10:10", "10:20", ["10:00", "10:15", "10:30"]),  # spans two windows, plus the next
        ("10:14", "10:15", ["10:00", "10:15"]),  # ends on a boundary
        ("23:50", "23:55", ["23:45"]),  # the next window is past the index
    ],
)
def test_a_deploy_counts_for_its_window_and_the_next(start, end, expected):
    flags = context_flags(DAY, events((f"2026-01-05T{start}Z", f"2026-01-05T{end}Z", "deploy")), "15min")
    assert flagged(flags, "deploy") == expected
    assert flags["campaign"].sum() == flags["maintenance"].sum() == 0


@pytest.mark.parametrize("kind", ["campaign", "maintenance"])
@pytest.mark.parametrize(
    "start, end, expected",
    [
        ("11:20", "12:10", ["11:15", "11:30", "11:45", "12:00"]),  # every window it overlaps, no more
        ("02:00", "03:00", ["02:00", "02:15", "02:30", "02:45"]),  # boundaries: touching is not overlapping
        ("05:01", "05:02", ["05:00"]),
    ],
)
def test_campaigns_and_maintenance_flag_the_windows_they_overlap(kind, start, end, expected):
    flags = context_flags(DAY, events((f"2026-01-05T{start}Z", f"2026-01-05T{end}Z", kind)), "15min")
    assert flagged(flags, kind) == expected
    assert flags["deploy"].sum() == 0


def test_flags_are_zero_or_one_and_other_event_types_are_ignored():
    calendar = events(
        ("2026-01-05T10:01Z", "2026-01-05T10:02Z", "deploy"),
        ("2026-01-05T10:03Z", "2026-01-05T10:04Z", "deploy"),  # a second deploy in the same window
        ("2026-01-05T10:00Z", "2026-01-05T11:00Z", "campaign"),
        ("2026-01-05T10:30Z", "2026-01-05T12:00Z", "campaign"),  # overlapping campaigns
        ("2026-01-05T00:00Z", "2026-01-06T00:00Z", "holiday"),
        ("2026-01-05T00:00Z", "2026-01-06T00:00Z", "release-freeze"),
    )
    flags = context_flags(DAY, calendar, "15min")
    assert set(np.unique(flags[["deploy", "campaign", "maintenance"]])) == {0, 1}
    assert flagged(flags, "deploy") == ["10:00", "10:15"]
    assert flagged(flags, "campaign") == [f"{h}:{m}" for h in ("10", "11") for m in ("00", "15", "30", "45")]
    assert flags["maintenance"].sum() == 0 and list(flags.columns) == COLUMNS


def test_the_window_width_decides_the_overlap():
    hourly = pd.date_range("2026-01-05T00:00Z", periods=24, freq="1h")
    calendar = events(("2026-01-05T10:20Z", "2026-01-05T10:25Z", "deploy"), ("2026-01-05T03:30Z", "2026-01-05T03:40Z", "maintenance"))
    wide = context_flags(hourly, calendar, pd.Timedelta("1h"))
    assert flagged(wide, "deploy") == ["10:00", "11:00"] and flagged(wide, "maintenance") == ["03:00"]
    narrow = context_flags(hourly, calendar, "15min")  # windows said to be 15 minutes wide
    assert flagged(narrow, "deploy") == [] and flagged(narrow, "maintenance") == []


# -- remove_incidents --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "margin, first_dropped, last_dropped",
    [
        ("0min", "02:00", "02:15"),
        ("15min", "01:45", "02:30"),
        ("1h", "01:00", "03:15"),
    ],
)
def test_incidents_are_removed_with_a_margin(margin, first_dropped, last_dropped):
    windows = frame(DAY)
    kept = remove_incidents(windows, incidents(("2026-01-05T02:00Z", "2026-01-05T02:30Z")), margin, window="15min")
    dropped = windows.index.difference(kept.index)
    assert (f"{dropped[0]:%H:%M}", f"{dropped[-1]:%H:%M}") == (first_dropped, last_dropped)
    assert len(dropped) == (T(f"2026-01-05T{last_dropped}Z") - T(f"2026-01-05T{first_dropped}Z")) / pd.Timedelta("15min") + 1
    pd.testing.assert_frame_equal(kept, windows.drop(dropped))  # rows kept unchanged, in order


def test_the_default_margin_is_an_hour():
    windows = frame(DAY)
    spans = incidents(("2026-01-05T02:00Z", "2026-01-05T02:30Z"))
    pd.testing.assert_frame_equal(remove_incidents(windows, spans, window="15min"), remove_incidents(windows, spans, "1h", window="15min"))


def test_every_incident_is_removed():
    windows = frame(DAY)
    spans = incidents(("2026-01-05T02:05Z", "2026-01-05T02:10Z"), ("2026-01-05T20:00Z", "2026-01-05T20:15Z"))
    kept = remove_incidents(windows, spans, "0min", window="15min")
    assert [f"{t:%H:%M}" for t in windows.index.difference(kept.index)] == ["02:00", "20:00"]


def test_no_incidents_keeps_everything():
    windows = frame(DAY)
    pd.testing.assert_frame_equal(remove_incidents(windows, incidents(), window="15min"), windows)


@pytest.mark.parametrize("window, dropped", [("1h", ["02:00"]), ("15min", []), (pd.Timedelta("2h"), ["01:00", "02:00"])])
def test_incidents_use_the_window_width_given(window, dropped):
    hourly = frame(pd.date_range("2026-01-05T00:00Z", periods=24, freq="1h"))
    kept = remove_incidents(hourly, incidents(("2026-01-05T02:30Z", "2026-01-05T02:40Z")), "0min", window=window)
    assert [f"{t:%H:%M}" for t in hourly.index.difference(kept.index)] == dropped


def test_the_window_is_keyword_only():
    with pytest.raises(TypeError):
        remove_incidents(frame(DAY), incidents(), "1h", "15min")
    with pytest.raises(TypeError):
        remove_planned(frame(DAY), events(), "15min")


# -- remove_planned ----------------------------------------------------------------------------


def test_planned_windows_are_removed_and_deploys_and_holidays_kept():
    windows = frame(DAY)
    calendar = events(
        ("2026-01-05T10:00Z", "2026-01-05T10:30Z", "campaign"),
        ("2026-01-05T02:10Z", "2026-01-05T02:20Z", "maintenance"),
        ("2026-01-05T15:00Z", "2026-01-05T15:05Z", "deploy"),
        ("2026-01-05T00:00Z", "2026-01-06T00:00Z", "holiday"),
    )
    kept = remove_planned(windows, calendar, window="15min")
    assert [f"{t:%H:%M}" for t in windows.index.difference(kept.index)] == ["02:00", "02:15", "10:00", "10:15"]
    pd.testing.assert_frame_equal(kept, windows.drop(windows.index.difference(kept.index)))


def test_nothing_planned_keeps_everything():
    windows = frame(DAY)
    pd.testing.assert_frame_equal(remove_planned(windows, events(), window="15min"), windows)
    pd.testing.assert_frame_equal(remove_planned(windows, events(("2026-01-05T15:00Z", "2026-01-05T15:05Z", "deploy")), window="15min"), windows)
