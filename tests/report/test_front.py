"""The run index as a front page (:mod:`workbench.report.front` through
:func:`workbench.report.index.write_run`): figures compared with the previous good run of the
whole suite, red or amber where worse, a trend chart over the last good runs. Hand-made runs.
"""

import re

import pytest
from builders import ok, run_result

from workbench.present.headline import ANSWER, MEASURES, SCOPE
from workbench.report import front
from workbench.report.index import write_run
from workbench.report.results import RunState


@pytest.mark.parametrize(
    "previous, current, better, percent, level",
    [
        (10.0, 10.0, "lower", False, None),  # the same
        (10.0, 8.0, "lower", False, None),  # better
        (10.0, 10.5, "lower", False, "amber"),  # worse by 5 %
        (10.0, 11.0, "lower", False, "red"),  # worse by 10 %: red from there
        (10.0, 9.5, "higher", False, "amber"),
        (10.0, 8.0, "higher", False, "red"),
        (0.0, 1.0, "lower", False, "red"),  # a first missed incident is never small
        (0.20, 0.23, "lower", True, "amber"),  # 3 points worse
        (0.20, 0.25, "lower", True, "red"),  # 5 points worse
        (None, 3.0, "lower", False, None),  # nothing to compare with
        (3.0, float("nan"), "lower", False, None),
    ],
)
def test_change_level(previous, current, better, percent, level):
    assert front.change_level(previous, current, better, percent) == level


def headline(alerts, share, missed, answer="The new alerting would have cut alerts by 80 %."):
    return {
        ANSWER: answer,
        SCOPE: "checkout, payments; 2026-09-01 to 2026-10-30 (UTC)",
        "alerts per week": alerts,
        MEASURES: [
            {"name": "alerts per week", "value": alerts, "better": "lower", "percent": False},
            {"name": "false-positive share", "value": share, "better": "lower", "percent": True},
            {"name": "missed incidents", "value": missed, "better": "lower", "percent": False},
        ],
    }


def nightly(reports, run_id, started, alerts, share, missed, **kwargs):
    result = run_result(reports, run_id, ok("04_evaluate", headline=headline(alerts, share, missed)), **kwargs)
    result.started = started
    write_run(result)
    return result


def test_a_figure_that_got_worse_is_red_or_amber_against_the_previous_good_run(tmp_path):
    nightly(tmp_path, "n1", "2026-11-01 02:00:00 UTC", 6.0, 0.20, 0)
    # A failed run and a partial run in between are not the yardstick.
    nightly(tmp_path, "broken", "2026-11-01 12:00:00 UTC", 1.0, 0.01, 0, state=RunState.INTERRUPTED)
    nightly(tmp_path, "n2", "2026-11-02 02:00:00 UTC", 6.2, 0.26, 1)
    page = (tmp_path / "n2" / "index.html").read_text()
    assert "compared with the previous good run, n1" in page
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td([^>]*)>", page))
    assert rows == {"alerts per week": " class='worse-amber'", "false-positive share": " class='worse-red'", "missed incidents": " class='worse-red'"}
    assert "<td>20 %</td>" in page  # the previous value, as a share


def test_the_first_run_has_nothing_to_compare_and_no_chart(tmp_path):
    nightly(tmp_path, "n1", "2026-11-01 02:00:00 UTC", 6.0, 0.20, 0)
    page = (tmp_path / "n1" / "index.html").read_text()
    assert "class='worse-" not in page and "no earlier run" in page and "<svg" not in page


def test_the_front_page_leads_each_report_with_title_answer_and_scope(tmp_path):
    result = run_result(tmp_path, "n1", ok("04_evaluate", headline=headline(6.0, 0.2, 0)))
    result.notebooks[0].title = "Did the hybrid beat the old alerts?"
    write_run(result)
    page = result.index.read_text()
    card = page[page.index("<div class='card'>"):]
    assert card.index("Did the hybrid beat the old alerts?") < card.index("class='answer'") < card.index("Covers checkout, payments")
    assert card.index("Covers") < card.index("<table")
    assert "04_evaluate" in card  # the file name stays, small, beside the title


def test_the_trend_chart_draws_each_followed_figure_over_the_good_runs(tmp_path):
    for day, (alerts, share, missed) in enumerate([(6.0, 0.2, 0), (5.0, 0.18, 0), (5.5, 0.15, 1)], start=1):
        nightly(tmp_path, f"n{day}", f"2026-11-0{day} 02:00:00 UTC", alerts, share, missed)
    nightly(tmp_path, "adhoc", "2026-11-03 12:00:00 UTC", 99.0, 0.9, 9, planned=["04_evaluate"])
    (tmp_path / "adhoc" / "run.json").write_text((tmp_path / "adhoc" / "run.json").read_text().replace('"partial": false', '"partial": true'))
    page = (tmp_path / "n3" / "index.html").read_text()
    assert "Over the last 3 good runs" in page
    charts = re.findall(r"<svg[^>]*aria-label='([^']*)'.*?<polyline[^>]*points='([^']*)'", page)
    assert len(charts) == 3
    labels = {label for label, _ in charts}
    assert "from 6 to 5.5 over 3 runs; lowest 5, highest 6" in labels
    assert "from 20 % to 15 % over 3 runs; lowest 15 %, highest 20 %" in labels
    assert all(len(points.split()) == 3 for _, points in charts)
    assert "<script" not in page  # an inline SVG: no script, works offline


def test_good_full_runs_skips_partial_failed_and_later_runs():
    records = [
        {"run_id": "c", "started": "2026-11-03 02:00:00 UTC", "ok": True, "state": "complete"},
        {"run_id": "p", "started": "2026-11-02 12:00:00 UTC", "ok": True, "partial": True, "state": "complete"},
        {"run_id": "f", "started": "2026-11-02 06:00:00 UTC", "ok": False, "state": "complete"},
        {"run_id": "b", "started": "2026-11-02 02:00:00 UTC", "ok": True, "state": "complete"},
        {"run_id": "a", "started": "2026-11-01 02:00:00 UTC", "ok": True},  # recorded before states existed
    ]
    assert [r["run_id"] for r in front.good_full_runs(records, before="2026-11-03 02:00:00 UTC")] == ["b", "a"]
