"""Notebook parameters (:mod:`workbench.report.params`) on the fixture notebooks: discovery,
declared types, typing command-line values, refusals, and checks against the config.
"""

import nbformat
import pytest
from conftest import FIXTURE_NOTEBOOKS, make_project

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
