"""Report runs on small fixture notebooks: typing, refusals, failure handling, 'latest'."""

import json

import pytest
from conftest import FIXTURE_NOTEBOOKS, make_project

from workbench.config import load_config
from workbench.errors import ParameterError, ReportError
from workbench.report.params import (
    check_values,
    coerce_parameters,
    discover_notebooks,
    notebook_parameters,
)
from workbench.report.runner import run_report


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return load_config(make_project(tmp_path_factory.mktemp("reports") / "p", notebooks=FIXTURE_NOTEBOOKS))


def quiet(*_):
    pass


def test_discover_by_number_stem_or_file(project):
    assert [p.stem for p in discover_notebooks(project)] == ["01_typed_parameters", "02_broken", "03_no_parameters"]
    assert [p.stem for p in discover_notebooks(project, ["02", "01_typed_parameters", "03_no_parameters.ipynb"])] == [
        "02_broken",
        "01_typed_parameters",
        "03_no_parameters",
    ]
    with pytest.raises(ReportError, match="no single notebook matches '09'"):
        discover_notebooks(project, ["09"])


def test_declared_parameters_carry_type_and_help(project):
    params = notebook_parameters(project.path("notebooks") / "01_typed_parameters.ipynb")
    assert {k: v["type"] for k, v in params.items()} == {"count": "int", "ratio": "float", "flag": "bool", "name": "str", "items": "list"}
    assert params["count"]["help"] == "an integer"


CASES = [
    # raw value, name, expected typed value
    ("7", "count", 7),
    ("0.25", "ratio", 0.25),
    ("yes", "flag", True),
    ("False", "flag", False),
    ("hello", "name", "hello"),
    ("[3, 4]", "items", [3, 4]),
]


@pytest.mark.parametrize("raw, name, expected", CASES)
def test_values_are_typed_per_declaration(project, raw, name, expected):
    path = project.path("notebooks") / "01_typed_parameters.ipynb"
    assert coerce_parameters([path], {name: raw})[path] == {name: expected}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"count": "three"}, "count='three' is not a valid int"),
        ({"ratio": "half"}, "not a valid float"),
        ({"flag": "maybe"}, "not a valid bool"),
        ({"items": "{a: 1}"}, "not a valid list"),
        ({"nonsense": "1"}, "unknown parameter\\(s\\) nonsense; the selected notebooks take: count, fail, flag, items, name, ratio"),
        ({"api_token": "abc"}, "looks like a secret"),
        ({"db_password": "abc"}, "looks like a secret"),
    ],
)
def test_bad_parameters_fail_before_running(project, params, message):
    paths = discover_notebooks(project)
    with pytest.raises(ParameterError, match=message):
        coerce_parameters(paths, params)


def test_parameters_go_only_where_declared(project):
    paths = discover_notebooks(project)
    typed = coerce_parameters(paths, {"count": "2", "fail": "false"})
    assert [typed[p] for p in paths] == [{"count": 2}, {"fail": False}, {}]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"service": "nope"}, "unknown service"),
        ({"source": "influx"}, "unknown source"),
        ({"window": "7min"}, "divide a day"),
        ({"start": "2026-09-02", "end": "2026-09-01"}, "after start"),
    ],
)
def test_shared_values_are_checked_against_config(project, params, message):
    with pytest.raises(ParameterError, match=message):
        check_values(project, params)


def test_unknown_parameter_runs_nothing(project):
    before = sorted(p.name for p in project.path("reports").glob("*")) if project.path("reports").exists() else []
    with pytest.raises(ParameterError):
        run_report(project, parameters={"nonsense": "1"}, run_id="never", log=quiet)
    after = sorted(p.name for p in project.path("reports").glob("*")) if project.path("reports").exists() else []
    assert after == before and "never" not in after


@pytest.fixture(scope="module")
def good_run(project):
    return run_report(project, notebooks=["01", "03"], parameters={"count": "5"}, run_id="good", log=quiet)


def test_good_run_renders_html_without_code_and_moves_latest(project, good_run):
    assert good_run.ok
    folder = project.path("reports") / "good"
    page = (folder / "01_typed_parameters.html").read_text()
    assert "rendered output" in page
    assert "code_only_marker_7731" not in page  # no code cells in the report
    assert "import workbench" not in page
    assert (project.path("reports") / "latest").resolve() == folder.resolve()
    assert good_run.notebooks[0].headline == {"count": 5, "ratio": 0.5, "flag": False, "name": "x", "items": "[1, 2]"}
    index = (folder / "index.html").read_text()
    assert "01_typed_parameters.html" in index and "03_no_parameters.html" in index
    run = json.loads((folder / "run.json").read_text())
    assert run["ok"] and [nb["status"] for nb in run["notebooks"]] == ["ok", "ok"]
    assert "good" in (project.path("reports") / "index.html").read_text()


def test_failed_run_keeps_latest_and_its_executed_copy(project, good_run):
    result = run_report(project, notebooks=["01", "02"], run_id="bad", log=quiet)
    assert not result.ok
    failed = result.notebooks[1]
    assert failed.name == "02_broken" and failed.status == "failed"
    assert "ValueError: broken on purpose" in failed.error
    assert (result.folder / "executed" / "02_broken.ipynb").is_file()  # kept for debugging
    assert (result.folder / "02_broken.html").is_file()
    assert (project.path("reports") / "latest").resolve().name == "good"
    assert "failed" in (result.folder / "index.html").read_text()


def test_existing_run_is_never_overwritten(project, good_run):
    with pytest.raises(ReportError, match="already exists"):
        run_report(project, notebooks=["03"], run_id="good", log=quiet)


@pytest.mark.parametrize("run_id", ["latest", "../escape", "a b", ""])
def test_bad_run_ids(project, run_id):
    with pytest.raises(ReportError):
        run_report(project, notebooks=["03"], run_id=run_id or "-", log=quiet)
