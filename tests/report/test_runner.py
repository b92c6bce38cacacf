"""Report runs (:mod:`workbench.report.runner`) on small fixture notebooks: refusals, failure
handling, 'latest', and the environment the kernels get.
"""

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import FIXTURE_NOTEBOOKS, make_project

from workbench.config import load_config
from workbench.errors import ParameterError, ReportError
from workbench.report.runner import new_run_id, run_report


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return load_config(make_project(tmp_path_factory.mktemp("reports") / "p", notebooks=FIXTURE_NOTEBOOKS))


def quiet(*_):
    pass


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


# -- run ids, the environment, latest ----------------------------------------------------------

RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")


def test_new_run_ids_are_timestamped_and_unique():
    ids = [new_run_id() for _ in range(20)]
    assert all(RUN_ID.match(i) for i in ids), ids
    assert len(set(ids)) > 1
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    assert ids[0][:8] in {now, (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y%m%d")}


def test_run_report_leaves_os_environ_unchanged(project, good_run):
    before = dict(os.environ)
    result = run_report(project, notebooks=["03", "02"], run_id="environ", log=quiet)
    assert dict(os.environ) == before
    assert [nb.status for nb in result.notebooks] == ["ok", "failed"]  # kernels ran, and one failed
    assert (project.path("reports") / "latest").resolve().name == "good"  # a failed run never moves it


def env_notebook(path: Path) -> None:
    """A numbered notebook that prints what its kernel's environment says, as JSON."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import json, os\n"
            "from workbench.config import load_config\n"
            "print(json.dumps({k: os.environ.get(k) for k in ('WORKBENCH_HEADLESS', 'WORKBENCH_ROOT')} | {'root': str(load_config().root)}))"
        )
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_the_kernel_gets_headless_and_root_but_the_caller_does_not(tmp_path):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(FIXTURE_NOTEBOOKS, notebooks)
    env_notebook(notebooks / "04_environment.ipynb")
    config = load_config(make_project(tmp_path / "p", notebooks=notebooks))
    before = dict(os.environ)
    assert "WORKBENCH_ROOT" not in before  # conftest's autouse fixture removes it
    result = run_report(config, notebooks=["04", "03"], log=quiet)
    assert dict(os.environ) == before
    assert result.ok, [nb.error for nb in result.notebooks]
    executed = nbformat.read(result.folder / "executed" / "04_environment.ipynb", as_version=4)
    printed = json.loads("".join(o["text"] for o in executed.cells[0].outputs if o.get("name") == "stdout"))
    assert printed == {"WORKBENCH_HEADLESS": "1", "WORKBENCH_ROOT": str(config.root), "root": str(config.root)}
    # No run id given: a new one, and a good run moves 'latest' to it (a relative link).
    assert RUN_ID.match(result.run_id) and result.folder == config.path("reports") / result.run_id
    assert os.readlink(config.path("reports") / "latest") == result.run_id
