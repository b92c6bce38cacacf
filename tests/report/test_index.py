"""The HTML a report run leaves (:mod:`workbench.report.index`): the run's page and ``run.json``,
the index of all runs, and notebooks rendered without code. Built from hand-made results:
no kernels.
"""

import json
import math
import re

import nbformat
import pytest
from builders import ok, run_result

from workbench.contracts import NotebookStatus
from workbench.report.index import (
    failure_page,
    render_html,
    write_run,
    write_runs_index,
)
from workbench.report.results import NotebookResult, RunState

SCRIPT = "<script>alert('x')</script>"


def failed(name, error) -> NotebookResult:
    return NotebookResult(name, NotebookStatus.FAILED, 0.5, html=None, error=error)


@pytest.fixture()
def mixed(tmp_path):
    result = run_result(
        tmp_path,
        "mixed",
        ok("01_explore", headline={"alerts per week": 12.5, "incidents": 3, "worst": math.nan}),
        failed("02_broken", f"cell 2: ValueError: bad input {SCRIPT}"),
        parameters={"service": "checkout", "window": "<b>15min</b>"},
    )
    write_run(result)
    return result


def test_run_json_records_every_notebook(mixed):
    data = json.loads((mixed.folder / "run.json").read_text())
    assert data["ok"] is False and data["run_id"] == "mixed" and data["folder"] == str(mixed.folder)
    assert [(nb["name"], nb["status"]) for nb in data["notebooks"]] == [("01_explore", "ok"), ("02_broken", "failed")]
    headline = data["notebooks"][0]["headline"]
    assert list(headline) == ["alerts per week", "incidents", "worst"]
    assert (headline["alerts per week"], headline["incidents"]) == (12.5, 3) and math.isnan(headline["worst"])
    assert data["notebooks"][1]["error"].endswith(SCRIPT)  # the JSON keeps the text as it was
    assert data["parameters"] == {"service": "checkout", "window": "<b>15min</b>"}


def test_run_page_shows_each_status_and_the_overall_one(mixed):
    page = mixed.index.read_text()
    assert "<span class='ok'>ok</span> in 1.3s" in page
    assert "<span class='failed'>failed</span> in 0.5s" in page
    assert "<span class='failed'>some reports failed</span>" in page
    assert "<a href='01_explore.html'>01_explore</a>" in page
    assert "<h2>02_broken</h2>" in page  # no page to link to
    assert "run mixed" in page and "source <b>sample</b>" in page and "commit abc1234" in page
    assert "<a href='../index.html'>all runs</a>" in page


def test_headline_figures_are_a_table(mixed):
    page = mixed.index.read_text()
    for header in ("<th>alerts per week</th>", "<th>incidents</th>", "<th>worst</th>"):
        assert header in page
    assert "<td>12.5</td>" in page and "<td>3</td>" in page
    assert "<td>—</td>" in page  # a missing figure


def test_errors_and_parameters_are_escaped(mixed):
    page = mixed.index.read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<p class='error'>cell 2: ValueError: bad input &lt;script&gt;" in page
    assert "window=&lt;b&gt;15min&lt;/b&gt;" in page and "<b>15min</b>" not in page


def test_headline_values_are_escaped(tmp_path):
    result = run_result(tmp_path, "r", ok("01_x", headline={"note": SCRIPT, "<i>name</i>": 1}))
    write_run(result)
    page = result.index.read_text()
    assert "<script>" not in page and "<i>name</i>" not in page
    assert "&lt;script&gt;" in page and "&lt;i&gt;name&lt;/i&gt;" in page


def test_a_good_run_says_so_and_defaults_are_named(tmp_path):
    result = run_result(tmp_path, "good", ok("01_x"), ok("03_y"))
    write_run(result)
    page = result.index.read_text()
    assert "<span class='ok'>all reports succeeded</span>" in page
    assert "<span class='failed'>" not in page and "some reports failed" not in page
    assert "parameters: defaults" in page
    assert page.count("<div class='card'>") == 2
    assert json.loads((result.folder / "run.json").read_text())["ok"] is True


def test_rewriting_after_each_notebook_shows_the_run_so_far(tmp_path):
    result = run_result(tmp_path, "partial", ok("01_x"), planned=["01_x", "02_y"])
    write_run(result)
    result.notebooks.append(failed("02_y", "boom"))
    write_run(result)
    data = json.loads((result.folder / "run.json").read_text())
    assert [nb["name"] for nb in data["notebooks"]] == ["01_x", "02_y"] and data["ok"] is False
    assert sorted(p.name for p in result.folder.iterdir()) == ["index.html", "run.json"]  # no temporary files left


def test_runs_index_lists_runs_newest_first(tmp_path):
    write_run(run_result(tmp_path, "20260901T100000Z-aaaa", ok("01_x")))
    write_run(run_result(tmp_path, "20260902T100000Z-bbbb", ok("01_x"), failed("02_y", SCRIPT)))
    (tmp_path / "latest").symlink_to("20260901T100000Z-aaaa", target_is_directory=True)  # not listed twice
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")  # skipped, not an error
    write_runs_index(tmp_path)
    page = (tmp_path / "index.html").read_text()
    rows = page.split("<tr>")[2:]
    assert len(rows) == 2
    assert "20260902T100000Z-bbbb/index.html" in rows[0] and "<td class='failed'>failed</td>" in rows[0]
    assert "20260901T100000Z-aaaa/index.html" in rows[1] and "<td class='ok'>ok</td>" in rows[1]
    assert "<td>01_x, 02_y</td>" in rows[0] and "<td>sample</td>" in rows[0]
    assert "<a href='latest/index.html'>latest good run</a>" in page
    assert "broken" not in page and "<script>" not in page


def test_runs_index_of_no_runs(tmp_path):
    write_runs_index(tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert "<th>run</th>" in page and page.count("<tr>") == 1


def test_render_html_shows_outputs_not_code():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A report"),
        nbformat.v4.new_code_cell(
            "code_only_marker_4242 = 1\nprint('rendered output')",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="rendered output\n")],
            execution_count=1,
        ),
    ]
    page = render_html(nb, "01_a_report")
    assert "rendered output" in page and "A report" in page
    assert "code_only_marker_4242" not in page
    assert "In&nbsp;[1]" not in page and "In [1]" not in page  # no prompts
    assert "<title>01_a_report</title>" in page


def test_render_html_fetches_nothing_so_reports_work_offline():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A report\n\nWith $x^2$ maths and a table.")]
    page = render_html(nb, "01_a_report")
    # nbconvert's lab template loads RequireJS, MathJax and Mermaid from a CDN; ours loads nothing.
    assert "<script" not in page.lower()
    assert not re.findall(r"(?:src|href)=[\"']?https?://", page)
    assert "cdnjs" not in page


def test_render_html_keeps_a_title_the_notebook_has():
    nb = nbformat.v4.new_notebook()
    nb.metadata["title"] = "Explore"
    assert "<title>Explore</title>" in render_html(nb, "01_explore")


# -- how far a run got: running, interrupted, failed ---------------------------------------


@pytest.mark.parametrize(
    "state, reason, overall, short",
    [
        (RunState.RUNNING, None, "<span class='running'>running or killed: 1 of 3 notebooks done</span>", "running or killed"),
        (RunState.INTERRUPTED, "interrupted by SIGTERM", "<span class='failed'>interrupted by SIGTERM: 1 of 3 notebooks done</span>", "interrupted"),
        (RunState.FAILED, "disk full", "<span class='failed'>run failed (disk full): 1 of 3 notebooks done</span>", "run failed"),
    ],
)
def test_an_unfinished_run_is_never_green_and_lists_what_did_not_run(tmp_path, state, reason, overall, short):
    # All that ran succeeded: only the state tells the run is not a good one.
    result = run_result(tmp_path, "r", ok("01_x"), state=state, planned=["01_x", "02_y", "03_z"])
    result.current, result.reason = "02_y", reason
    write_run(result)
    data = json.loads((result.folder / "run.json").read_text())
    assert data["ok"] is False and data["state"] == state and data["not_run"] == ["02_y", "03_z"]
    assert data["planned"] == ["01_x", "02_y", "03_z"] and data["current"] == "02_y"
    page = result.index.read_text()
    assert overall in page
    assert "all reports succeeded" not in page
    css, words = {RunState.RUNNING: ("running", "running or killed"), RunState.INTERRUPTED: ("failed", "interrupted")}.get(state, ("failed", "stopped"))
    assert f"<h2>02_y</h2><p><span class='{css}'>{words}</span>" in page  # the notebook that was running
    assert "<h2>03_z</h2><p><span class='pending'>not run</span>" in page
    write_runs_index(tmp_path)
    row = (tmp_path / "index.html").read_text().split("<tr>")[2]
    assert f">{short}</td>" in row and "class='ok'" not in row
    assert "<td>01_x, not run: 02_y, 03_z</td>" in row


def test_a_complete_run_with_every_notebook_ok_is_the_only_green_one(tmp_path):
    result = run_result(tmp_path, "r", ok("01_x"), planned=["01_x"])
    assert result.ok
    result.state = RunState.RUNNING
    assert not result.ok
    result.state = RunState.COMPLETE
    result.planned.append("02_y")  # planned but never recorded
    assert not result.ok and result.not_run == ["02_y"]


def test_runs_recorded_before_states_existed_still_show(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"run_id": "old", "ok": True, "notebooks": [{"name": "01_x"}]}))
    write_runs_index(tmp_path)
    assert "<td class='ok'>ok</td><td>01_x</td>" in (tmp_path / "index.html").read_text()


# -- credentials never reach the pages -----------------------------------------------------

SECRET_URL = "http://alice:S3cretPW@prom.internal:9090/api"


def test_run_json_and_pages_are_redacted(tmp_path):
    result = run_result(
        tmp_path,
        "r",
        ok("01_x", headline={"reached": SECRET_URL}),
        failed("02_y", f"cell 3: ConnectionError: cannot reach {SECRET_URL}"),
        parameters={"window": "15min", "note": "token=abc123secret"},
        state=RunState.FAILED,
    )
    result.reason = f"could not write: {SECRET_URL}"
    write_run(result)
    write_runs_index(tmp_path)
    for path in (result.folder / "run.json", result.index, tmp_path / "index.html"):
        text = path.read_text()
        assert "S3cretPW" not in text and "abc123secret" not in text, path.name
    data = json.loads((result.folder / "run.json").read_text())
    assert data["notebooks"][1]["error"] == "cell 3: ConnectionError: cannot reach http://alice:***@prom.internal:9090/api"
    assert data["notebooks"][0]["headline"] == {"reached": "http://alice:***@prom.internal:9090/api"}
    # Masked before escaping: an escaped quote would hide the value from the pattern.
    assert "http://alice:***@prom.internal:9090/api" in result.index.read_text()


def test_failure_page_shows_the_error_line_not_a_traceback():
    page = failure_page("02_y", f"cell 3: ConnectionError: cannot reach {SECRET_URL} <b>", "executed/02_y.ipynb")
    assert "<h1>02_y</h1>" in page and "cell 3: ConnectionError: cannot reach http://alice:***@prom.internal:9090/api &lt;b&gt;" in page
    assert "S3cretPW" not in page and "executed/02_y.ipynb" in page


# -- the runs index of scheduled runs: by start time, partial runs said ----------------------


def test_runs_index_is_newest_first_by_start_time_not_by_name(tmp_path):
    for run_id, started in [("nightly-2026-11-28", "2026-11-28 06:15:00 UTC"), ("adhoc", "2026-11-28 09:30:00 UTC"), ("zz-old", "2026-11-01 06:15:00 UTC")]:
        result = run_result(tmp_path, run_id, ok("01_x"))
        result.started = started
        write_run(result)
    write_runs_index(tmp_path)
    rows = (tmp_path / "index.html").read_text().split("<tr>")[2:]
    assert [row.split("'")[1].split("/")[0] for row in rows] == ["adhoc", "nightly-2026-11-28", "zz-old"]


def test_a_partial_run_is_listed_as_one_with_its_notebooks_and_parameter_scope(tmp_path):
    result = run_result(tmp_path, "adhoc", ok("01_x"), parameters={"start": "2026-10-01"})
    result.partial, result.parameter_scope = True, {"start": ["01_x"]}
    write_run(result)
    write_runs_index(tmp_path)
    assert "<td>partial run: 01_x</td>" in (tmp_path / "index.html").read_text()
    page = result.index.read_text()
    assert "parameters: start=2026-10-01 (only 01_x) · partial run of 01_x: never latest" in page
    data = json.loads((result.folder / "run.json").read_text())
    assert data["partial"] is True and data["parameter_scope"] == {"start": ["01_x"]}


def test_rendering_a_plot_logs_no_alt_text_warning(caplog):
    import logging

    import nbformat

    from workbench.report.index import render_html

    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output("display_data", data={"image/png": png})])]
    with caplog.at_level(logging.WARNING):
        page = render_html(nb, "plots")
    assert "<img" in page
    assert not [r for r in caplog.records if "Alternative text" in r.getMessage()]


def test_an_answer_sentence_comes_first_on_the_page_and_on_the_index(tmp_path):
    from workbench.present.headline import ANSWER
    from workbench.report.index import _card

    card = _card({"name": "04_evaluate", "status": "ok", "seconds": 3.0, "html": "04_evaluate.html",
                  "headline": {ANSWER: "The new alerting would have cut alerts by 85 % & missed none.", "weeks evaluated": 2}})
    assert card.index("<p class='answer'>The new alerting would have cut alerts by 85 % &amp; missed none.</p>") < card.index("<table")
    assert "weeks evaluated" in card and ">answer<" not in card
