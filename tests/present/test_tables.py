"""Plain tables for leaders (:mod:`workbench.present.tables`): no index column, one timezone
without ``+00:00``, numbers rounded as a person would, a dash for empty cells, nothing cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.present.tables import DASH, plain_number, plain_table, table_html


@pytest.mark.parametrize(
    "value, text",
    [
        (86257.0, "86,257"),
        (182.6, "183"),
        (36.94, "36.9"),
        (0.6253, "0.63"),
        (0.0042, "0.0042"),
        (3.0, "3"),
        (-3100.0, "-3,100"),
        (float("nan"), DASH),
        (float("inf"), "∞"),
    ],
)
def test_plain_number(value, text):
    assert plain_number(value) == text


def test_the_index_becomes_columns_and_a_range_index_goes():
    by_service = pd.DataFrame({"alerts": [3, 4]}, index=pd.Index(["checkout", "auth"], name="service"))
    assert list(plain_table(by_service).columns) == ["service", "alerts"]
    numbered = pd.DataFrame({"alerts": [3, 4]}, index=[7, 9])  # left over from a filter
    assert list(plain_table(numbered).columns) == ["index", "alerts"]
    plain = pd.DataFrame({"alerts": [3, 4]})
    assert list(plain_table(plain).columns) == ["alerts"]
    two_levels = pd.DataFrame({"n": [1]}, index=pd.MultiIndex.from_tuples([("checkout", "cpu")], names=["service", "resource"]))
    assert list(plain_table(two_levels).columns) == ["service", "resource", "n"]


def test_times_show_no_offset_and_midnights_show_the_day():
    frame = pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-09-17 04:04", "2026-09-18 00:00"], utc=True),
            "day": pd.to_datetime(["2026-09-17", "2026-09-18"], utc=True),
            "naive": pd.to_datetime(["2026-09-17 04:04", None]),
            "mixed": [pd.Timestamp("2026-09-17 04:04", tz="UTC"), None],
        }
    )
    table = plain_table(frame)
    assert table.to_dict("list") == {
        "start": ["2026-09-17 04:04", "2026-09-18 00:00"],
        "day": ["2026-09-17", "2026-09-18"],
        "naive": ["2026-09-17 04:04", DASH],
        "mixed": ["2026-09-17 04:04", DASH],
    }
    assert "+00:00" not in table_html(frame)


def test_cells_are_whole_rounded_and_never_cut():
    long = "hung connection to the payment provider's EU endpoint, pool exhausted after a deploy"
    frame = pd.DataFrame(
        {
            "cause": [long, None],
            "alerts": [30.0, np.nan],  # whole numbers in a float column (NaN made it float)
            "share": [0.2253, 0.1],
            "seconds": [pd.Timedelta(minutes=25), pd.Timedelta(hours=5)],
            "rules": [["error_burst", "p99_over_5s"], []],
            "paged": [True, False],
            "samples_found": [86257, 12],
        }
    )
    table = plain_table(frame)
    assert table.to_dict("list") == {
        "cause": [long, DASH],
        "alerts": ["30", DASH],
        "share": ["0.23", "0.1"],
        "seconds": ["25 min", "5.0 h"],
        "rules": ["error_burst, p99_over_5s", DASH],
        "paged": ["yes", "no"],
        "samples found": ["86,257", "12"],  # an underscore in a heading becomes a space
    }
    html = table_html(frame)
    assert long in html and "..." not in html and "<th></th>" not in html and "<tbody>\n    <tr>\n      <th>" not in html


def test_an_empty_table_is_a_sentence_and_cells_are_escaped():
    assert table_html(pd.DataFrame(columns=["id"]), empty="No missed incidents.") == "<p class='empty'>No missed incidents.</p>"
    html = table_html(pd.DataFrame({"cause": ["<script>alert(1)</script>"]}))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_input_is_not_changed():
    frame = pd.DataFrame({"x": [1.23456]}, index=pd.Index(["a"], name="k"))
    before = frame.copy()
    plain_table(frame)
    pd.testing.assert_frame_equal(frame, before)
