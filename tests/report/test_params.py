"""Notebook parameters (:mod:`workbench.report.params`) on the fixture notebooks: discovery,
declared types, typing command-line values, refusals, and checks against the config.
"""

import nbformat
import pytest
from conftest import FIXTURE_NOTEBOOKS, REPO, make_project

from workbench._registry import SOURCES
from workbench.config import load_config
from workbench.errors import ParameterError, ReportError
from workbench.report.params import (
    check_values,
    coerce_parameters,
    discover_notebooks,
    notebook_parameters,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return load_config(make_project(tmp_path_factory.mktemp("reports") / "p", notebooks=FIXTURE_NOTEBOOKS))


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


# -- registry choices --------------------------------------------------------------------------


def test_only_registry_parameters_carry_choices(project):
    params = notebook_parameters(project.path("notebooks") / "01_typed_parameters.ipynb")
    assert all("choices" in spec for spec in params.values())
    assert {name: spec["choices"] for name, spec in params.items()} == dict.fromkeys(params)


def test_source_lists_the_registered_sources(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('source: str = ""  # metric source\nservice: str = "checkout"  # a service')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(source, service)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "01_sourced.ipynb"
    nbformat.write(nb, path)
    params = notebook_parameters(path)
    assert params["source"]["choices"] == SOURCES.names()
    assert {"sample", "prometheus"} <= set(params["source"]["choices"])
    assert params["source"]["type"] == "str" and params["source"]["help"] == "metric source"
    assert params["service"]["choices"] is None  # services come from the config, not a registry


# -- values the notebook would refuse minutes later ------------------------------------------

REAL = REPO / "notebooks"


@pytest.mark.parametrize(
    "notebook, params, message",
    [
        ("05_capacity_forecast", {"history": "abc"}, "history='abc' must be a positive duration like '14D' \\(not a duration with a unit\\)"),
        ("05_capacity_forecast", {"history": "7"}, "history='7' must be a positive duration like '14D'"),  # pandas reads 7 as 7 ns
        ("05_capacity_forecast", {"history": "-3D"}, "history='-3D' must be a positive duration"),
        ("05_capacity_forecast", {"history": "0h"}, "history='0h' must be a positive duration"),
        ("06_live_alerts", {"days": "-3"}, "days=-3 must be positive"),
        ("06_live_alerts", {"days": "0"}, "days=0 must be positive"),
        ("07_retrain", {"weeks": "0"}, "weeks=0 must be positive"),
        ("07_retrain", {"jobs": "0"}, "jobs=0 must be positive"),
    ],
)
def test_values_the_notebook_would_refuse_fail_up_front(notebook, params, message):
    with pytest.raises(ParameterError, match=message):
        coerce_parameters([REAL / f"{notebook}.ipynb"], params)


@pytest.mark.parametrize(
    "notebook, params, expected",
    [
        ("05_capacity_forecast", {"history": "7D"}, {"history": "7D"}),
        ("05_capacity_forecast", {"history": "1h30min"}, {"history": "1h30min"}),
        ("06_live_alerts", {"days": "2"}, {"days": 2}),
        ("07_retrain", {"weeks": "1", "jobs": "1"}, {"weeks": 1, "jobs": 1}),
        ("01_explore", {"window": "1h", "start": "2026-09-01"}, {"window": "1h", "start": "2026-09-01"}),  # defaults "" are no durations
    ],
)
def test_good_durations_and_counts_pass(notebook, params, expected):
    path = REAL / f"{notebook}.ipynb"
    assert coerce_parameters([path], params)[path] == expected


def test_a_count_in_the_fixture_must_be_positive_too(project):
    path = project.path("notebooks") / "01_typed_parameters.ipynb"
    with pytest.raises(ParameterError, match="count=0 must be positive"):
        coerce_parameters([path], {"count": "0"})
    assert coerce_parameters([path], {"ratio": "-0.5"})[path] == {"ratio": -0.5}  # not a count


def test_check_values_masks_credentials(project):
    with pytest.raises(ParameterError) as err:
        check_values(project, {"service": "http://bob:Hunter2pw@prom:9090"})
    assert "Hunter2pw" not in str(err.value) and "http://bob:***@prom:9090" in str(err.value)
