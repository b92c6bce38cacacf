"""The headline protocol: show_headline's MIME bundle is what read_headline finds in a notebook."""

from __future__ import annotations

import json
import math

import nbformat
import numpy as np
import pandas as pd
import pytest

import workbench.present.headline as headline
from workbench.present.headline import HEADLINE_MIME, read_headline, show_headline


@pytest.fixture()
def shown(monkeypatch):
    """What show_headline passes to IPython's display, collected instead of displayed."""
    calls = []

    def display(*objs, **kwargs):
        calls.append((objs, kwargs))

    monkeypatch.setattr("IPython.display.display", display)
    return calls


def notebook_with(bundles: list[dict], leading_outputs: int = 0):
    """An nbformat notebook whose code cells carry ``bundles`` as display_data outputs."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Title"))
    first = nbformat.v4.new_code_cell("x = 1")
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n") for _ in range(leading_outputs)]
    nb.cells.append(first)
    for bundle in bundles:
        cell = nbformat.v4.new_code_cell("wb.show_headline(...)")
        cell.outputs = [nbformat.v4.new_output("display_data", data=bundle, metadata={})]
        nb.cells.append(cell)
    # Through JSON and back, as an executed notebook is read from disk.
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def test_show_headline_displays_html_and_the_figures(shown):
    show_headline({"alerts per week": 12, "missed": 0, "system": "hybrid"})
    assert len(shown) == 1
    (bundle,), kwargs = shown[0]
    assert kwargs == {"raw": True}
    assert set(bundle) == {"text/html", HEADLINE_MIME}
    assert list(bundle[HEADLINE_MIME]) == ["figures"]
    assert [list(pair) for pair in bundle[HEADLINE_MIME]["figures"]] == [["alerts per week", 12], ["missed", 0], ["system", "hybrid"]]
    html = bundle["text/html"]
    assert 'class="dataframe headline"' in html and "alerts per week" in html and "hybrid" in html
    assert "headline-detail" not in html


def test_show_headline_adds_the_detail_table(shown):
    show_headline({"a": 1}, table=pd.DataFrame({"service": ["checkout", "auth"], "alerts": [3, 4]}))
    html = shown[0][0][0]["text/html"]
    assert "headline-detail" in html and "checkout" in html and "auth" in html


def test_round_trip_keeps_values_and_order(shown):
    summary = {"zeta": 1, "alpha": 2.5, "middle": "text", "flag": True, "none": None}
    show_headline(summary)
    bundle = shown[0][0][0]
    figures = read_headline(notebook_with([bundle], leading_outputs=2))
    assert figures == summary
    assert list(figures) == ["zeta", "alpha", "middle", "flag", "none"]  # reading order, not sorted


def test_non_json_values_come_back_json_safe(shown):
    when = pd.Timestamp("2026-11-28 09:30", tz="UTC")
    summary = {
        "alerts": np.int64(7),
        "share": np.float32(0.25),
        "ok": np.bool_(True),
        "nan": float("nan"),
        "numpy nan": np.float64("nan"),
        "when": when,
        "window": pd.Timedelta("15min"),
        3: "key not a string",
    }
    show_headline(summary)
    bundle = shown[0][0][0]
    json.dumps(bundle[HEADLINE_MIME], allow_nan=False)  # strict JSON: no NaN, no numpy
    figures = read_headline(notebook_with([bundle]))
    assert figures == {
        "alerts": 7,
        "share": 0.25,
        "ok": True,
        "nan": None,
        "numpy nan": None,
        "when": str(when),
        "window": str(pd.Timedelta("15min")),
        "3": "key not a string",
    }
    assert type(figures["alerts"]) is int and type(figures["ok"]) is bool
    assert not any(isinstance(v, float) and math.isnan(v) for v in figures.values())


def test_notebook_without_a_headline_is_none():
    html_only = {"text/html": "<p>a table</p>", "text/plain": "a table"}
    assert read_headline(notebook_with([html_only], leading_outputs=1)) is None
    assert read_headline(nbformat.v4.new_notebook()) is None
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("no outputs key at all"))
    assert read_headline(nb) is None


def test_the_first_headline_wins(shown):
    show_headline({"run": "first"})
    show_headline({"run": "second"})
    nb = notebook_with([shown[0][0][0], shown[1][0][0]])
    assert read_headline(nb) == {"run": "first"}


@pytest.mark.parametrize(
    "value, expected",
    [
        (np.int32(3), 3),
        (np.float64(1.5), 1.5),
        (float("nan"), None),
        (None, None),
        ("s", "s"),
        (pd.Timestamp("2026-01-05", tz="UTC"), "2026-01-05 00:00:00+00:00"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_jsonable(value, expected):
    assert headline._jsonable(value) == expected


def test_scope_and_measures_travel_to_the_index(shown):
    measures = [headline.Measure("alerts per week", np.float64(5.9)), headline.Measure("false-positive share", 0.23, percent=True)]
    show_headline({headline.ANSWER: "Alerts fell by 80 %.", "weeks": 6}, scope="checkout; 2026-09-01 to 2026-10-30 (UTC)", measures=measures)
    bundle = shown[0][0][0]
    html = bundle["text/html"]
    assert html.index("Alerts fell by 80 %.") < html.index("Covers checkout; 2026-09-01 to 2026-10-30 (UTC).") < html.index("<table")
    figures = read_headline(notebook_with([bundle]))
    assert figures[headline.SCOPE] == "checkout; 2026-09-01 to 2026-10-30 (UTC)"
    assert figures[headline.MEASURES] == [
        {"name": "alerts per week", "value": 5.9, "better": "lower", "percent": False},
        {"name": "false-positive share", "value": 0.23, "better": "lower", "percent": True},
    ]


def test_a_measure_says_which_side_is_better():
    with pytest.raises(ValueError, match="better"):
        headline.Measure("alerts", 3.0, better="smaller")


@pytest.mark.parametrize(
    "services, start, end, words",
    [
        (["checkout"], "2026-09-01 00:00Z", "2026-10-30 23:59Z", "checkout; 2026-09-01 to 2026-10-30 (UTC)"),
        (["a", "b"], None, None, "a, b"),
        ([f"s{i}" for i in range(8)], None, None, "8 services (s0, s1, s2 ...)"),
        # The words say UTC: a Berlin time just after midnight is the day before in UTC.
        (["a"], pd.Timestamp("2026-09-01 00:30", tz="Europe/Berlin"), pd.Timestamp("2026-09-02 12:00", tz="UTC"), "a; 2026-08-31 to 2026-09-02 (UTC)"),
    ],
)
def test_scope_words(services, start, end, words):
    assert headline.scope_words(services, start, end) == words
