"""Report runs (:mod:`workbench.report.runner`) on small fixture notebooks: refusals, failure
handling, 'latest', the environment and config the kernels get, the run lock, a full disk,
and runs stopped by a signal or killed.
"""

import datetime as dt
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from builders import write_notebook
from conftest import FIXTURE_NOTEBOOKS, REPO, make_project

from workbench._util import try_lock
from workbench.config import load_config
from workbench.errors import BusyError, ParameterError, ReportError
from workbench.report import execute, runner
from workbench.report.params import notebook_parameters
from workbench.report.runner import LOCK_NAME, new_run_id, run_report


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project whose suite is 01 and 03 until ``good_run`` has run; then 02_broken joins it."""
    notebooks = tmp_path_factory.mktemp("suite")
    for name in ("01_typed_parameters.ipynb", "03_no_parameters.ipynb"):
        shutil.copy(FIXTURE_NOTEBOOKS / name, notebooks / name)
    return load_config(make_project(tmp_path_factory.mktemp("reports") / "p", notebooks=notebooks))


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
    """The whole suite (01 and 03), all good: 'latest'. Then the suite grows 02_broken."""
    result = run_report(project, parameters={"count": "5"}, run_id="good", log=quiet)
    shutil.copy(FIXTURE_NOTEBOOKS / "02_broken.ipynb", project.path("notebooks") / "02_broken.ipynb")
    return result


def test_good_run_renders_html_without_code_and_moves_latest(project, good_run):
    assert good_run.ok and good_run.moves_latest and not good_run.partial
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
    result = run_report(project, run_id="bad", log=quiet)  # the whole suite, now with 02_broken
    assert not result.ok and not result.partial and [nb.status for nb in result.notebooks] == ["ok", "failed", "ok"]
    failed = result.notebooks[1]
    assert failed.name == "02_broken" and failed.status == "failed"
    assert "ValueError: broken on purpose" in failed.error
    assert (result.folder / "executed" / "02_broken.ipynb").is_file()  # kept for debugging
    assert (result.folder / "02_broken.html").is_file()
    assert (project.path("reports") / "latest").resolve().name == "good"
    assert "failed" in (result.folder / "index.html").read_text()


def test_a_taken_run_id_gets_a_suffix_and_the_existing_run_is_never_overwritten(project, good_run):
    before = {p.name: p.read_bytes() for p in (project.path("reports") / "good").rglob("*") if p.is_file()}
    said = []
    second = run_report(project, notebooks=["03"], run_id="good", log=said.append)
    third = run_report(project, notebooks=["03"], run_id="good", log=quiet)
    assert (second.run_id, third.run_id) == ("good-2", "good-3") and second.ok and third.ok
    assert second.folder == project.path("reports") / "good-2" and second.requested_id == "good"
    assert said[0] == "run good-2 (good was taken): a partial run of 03_no_parameters; reports in reports/good-2"
    assert json.loads((second.folder / "run.json").read_text())["requested_id"] == "good"
    assert {p.name: p.read_bytes() for p in (project.path("reports") / "good").rglob("*") if p.is_file()} == before
    assert os.readlink(project.path("reports") / "latest") == "good"  # partial runs never move it


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
    write_notebook(
        path,
        "import json, os\n"
        "from workbench.config import load_config\n"
        "print(json.dumps({k: os.environ.get(k) for k in ('WORKBENCH_HEADLESS', 'WORKBENCH_ROOT')} | {'root': str(load_config().root)}))",
    )


def test_the_kernel_gets_headless_and_root_but_the_caller_does_not(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(FIXTURE_NOTEBOOKS / "03_no_parameters.ipynb", notebooks)
    env_notebook(notebooks / "04_environment.ipynb")
    config = load_config(make_project(tmp_path / "p", notebooks=notebooks))
    before = dict(os.environ)
    assert "WORKBENCH_ROOT" not in before  # conftest's autouse fixture removes it
    result = run_report(config, log=quiet)  # the whole suite: 03 and 04
    assert dict(os.environ) == before
    assert result.ok, [nb.error for nb in result.notebooks]
    executed = nbformat.read(result.folder / "executed" / "04_environment.ipynb", as_version=4)
    printed = json.loads("".join(o["text"] for o in executed.cells[0].outputs if o.get("name") == "stdout"))
    assert printed == {"WORKBENCH_HEADLESS": "1", "WORKBENCH_ROOT": str(config.root), "root": str(config.root)}
    # No run id given: a new one, and a good run moves 'latest' to it (a relative link).
    assert RUN_ID.match(result.run_id) and result.folder == config.path("reports") / result.run_id
    assert os.readlink(config.path("reports") / "latest") == result.run_id



# -- the notebooks load the config the run loaded ------------------------------------------

CONFIG_ECHO = (
    "import workbench as wb\n"
    "config = wb.load_config(config_path)\n"
    'wb.show_headline({"services": ",".join(config.services), "file": config.config_file.name})'
)


@pytest.fixture(scope="module")
def two_configs(tmp_path_factory):
    """A project whose workbench.yaml and other.yaml name different services."""
    notebooks = tmp_path_factory.mktemp("nbs")
    write_notebook(notebooks / "01_config.ipynb", CONFIG_ECHO, parameters='config_path: str = ""  # the config file')
    root = make_project(tmp_path_factory.mktemp("configs") / "p", notebooks=notebooks, labels=False).parent
    settings = yaml.safe_load((root / "workbench.yaml").read_text())
    settings["services"] = ["checkout"]
    settings["capacity"]["services"] = {k: v for k, v in settings["capacity"]["services"].items() if k == "checkout"}
    (root / "other.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return root


def test_the_notebooks_load_the_file_the_run_loaded(two_configs):
    # No WORKBENCH_CONFIG in this process (conftest removes it): the runner hands the file to the kernel.
    result = run_report(load_config(two_configs / "other.yaml"), run_id="other", log=quiet)
    assert result.ok, result.notebooks[0].error
    assert result.notebooks[0].headline == {"services": "checkout", "file": "other.yaml"}
    assert result.config == "other.yaml" and "config other.yaml" in result.index.read_text()


def test_a_config_path_parameter_still_wins_and_is_shown_relative(two_configs):
    given = str(two_configs / "workbench.yaml")  # an absolute path: never on the leader's page
    result = run_report(load_config(two_configs / "other.yaml"), parameters={"config_path": given}, run_id="param", log=quiet)
    assert result.notebooks[0].headline["file"] == "workbench.yaml"
    assert result.parameters == {"config_path": "workbench.yaml"}
    for name in ("index.html", "run.json"):
        assert str(two_configs) not in (result.folder / name).read_text().replace(f'"folder": "{result.folder}"', "")


def test_repository_notebooks_default_to_the_runs_config():
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert notebook_parameters(path)["config_path"]["default"] == '""', path.name


# -- one run at a time ------------------------------------------------------------------------


def test_a_second_run_refuses_at_once_and_creates_nothing(project):
    reports = project.path("reports")
    before = sorted(p.name for p in reports.iterdir()) if reports.exists() else []
    with try_lock(reports / LOCK_NAME, "a test holds it"):
        with pytest.raises(BusyError, match=r"another report run holds reports/\.report\.lock; nothing was started") as err:
            run_report(project, notebooks=["03"], run_id="second", log=quiet)
    assert err.value.exit_status == 1
    assert {p.name for p in reports.iterdir()} - set(before) <= {LOCK_NAME}  # the lock file is the test's own
    assert not (reports / "second").exists()


# -- a full disk -------------------------------------------------------------------------------


def no_space(path):
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def leftovers(folder: Path) -> list[str]:
    """Temporary files (hidden names) anywhere under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*"))


def test_a_full_disk_writing_the_html_fails_that_notebook_and_the_run_is_still_recorded(project, monkeypatch):
    real = execute.atomic_write_text

    def full_for_html(path, text):
        if Path(path).suffix == ".html":
            raise no_space(path)
        return real(path, text)

    monkeypatch.setattr(execute, "atomic_write_text", full_for_html)
    result = run_report(project, notebooks=["03", "01"], run_id="full-html", log=quiet)
    assert [nb.status for nb in result.notebooks] == ["failed", "failed"] and not result.ok
    assert result.notebooks[0].error == "could not write 03_no_parameters.html: No space left on device"
    assert result.notebooks[0].html is None and result.notebooks[0].executed == "executed/03_no_parameters.ipynb"
    run = json.loads((result.folder / "run.json").read_text())
    assert run["state"] == "complete" and run["ok"] is False
    assert "No space left on device" in (result.folder / "index.html").read_text()
    assert leftovers(result.folder) == []
    assert (project.path("reports") / "latest").resolve().name == "good"


def test_a_half_written_executed_notebook_is_never_left(project, monkeypatch):
    def cut_short(input_path, output_path, **kwargs):
        Path(output_path).write_text('{"cells": [{"cell_type": "code", "sou')
        raise no_space(output_path)

    monkeypatch.setattr(execute.papermill, "execute_notebook", cut_short)
    result = run_report(project, notebooks=["03"], run_id="half", log=quiet)
    nb = result.notebooks[0]
    assert nb.status == "failed" and nb.error == "OSError: No space left on device"  # the cause, not a machine path
    assert nb.executed is None and not (result.folder / "executed" / "03_no_parameters.ipynb").exists()
    assert leftovers(result.folder) == []
    assert "No space left on device" in (result.folder / "03_no_parameters.html").read_text()  # the failure page


def test_a_record_that_cannot_be_written_stops_the_run_with_exit_1(project, monkeypatch):
    def full(result):
        raise no_space(result.folder / "run.json")

    monkeypatch.setattr(runner, "write_run", full)
    with pytest.raises(ReportError, match="could not write the record of run rec \\(run.json, index.html\\): No space left on device") as err:
        run_report(project, notebooks=["03"], run_id="rec", log=quiet)
    assert err.value.exit_status == 1


# -- a failed notebook's page ------------------------------------------------------------------


def test_a_failed_notebook_page_shows_the_cell_and_error_not_the_traceback(project, good_run):
    result = run_report(project, notebooks=["02"], run_id="broken-page", log=quiet)
    failed = result.notebooks[0]
    assert failed.error == "cell 2: ValueError: broken on purpose"  # execution count 2: the parameters cell is 1
    page = (result.folder / "02_broken.html").read_text()
    assert "02_broken" in page and "cell 2: ValueError: broken on purpose" in page
    assert "Traceback" not in page and "raise ValueError" not in page and str(project.root) not in page
    executed = nbformat.read(result.folder / "executed" / "02_broken.ipynb", as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].traceback  # the traceback stays for engineers


# -- a run stopped part-way: SIGTERM and SIGINT are recorded as interrupted and cleaned up
# after; SIGKILL leaves a run that says it is running, shown as "running or killed". Real
# `workbench report` processes, signalled while a slow fixture notebook runs.

PLANNED = ["01_typed_parameters", "02_slow", "03_no_parameters"]


def slow_notebook(path: Path) -> None:
    """Says it has started (a file in the project root), then sleeps far longer than any test."""
    write_notebook(
        path,
        "import os, pathlib, time\n"
        "pathlib.Path(os.environ['WORKBENCH_ROOT'], 'slow-started').write_text('')\n"
        "time.sleep(300)",
    )


@pytest.fixture(scope="module")
def stoppable(tmp_path_factory):
    """A project with 01 (quick), 02_slow and 03 (quick), and one good run that 'latest' points at
    (of the whole suite before 02_slow joined it)."""
    notebooks = tmp_path_factory.mktemp("nbs")
    for name in ("01_typed_parameters.ipynb", "03_no_parameters.ipynb"):
        shutil.copy(FIXTURE_NOTEBOOKS / name, notebooks / name)
    config = load_config(make_project(tmp_path_factory.mktemp("interrupt") / "p", notebooks=notebooks, labels=False))
    assert run_report(config, run_id="good", log=lambda *_: None).moves_latest
    slow_notebook(config.path("notebooks") / "02_slow.ipynb")
    return config.root


def processes_naming(text: str) -> list[int]:
    """Processes whose command line holds ``text`` (the kernels name their connection file)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture()
def scratch(tmp_path):
    """Private temporary and runtime folders for the run, so what it leaves there can be seen."""
    folders = tmp_path / "tmp", tmp_path / "runtime"
    for folder in folders:
        folder.mkdir()
    yield folders
    for pid in processes_naming(str(tmp_path)):  # never leave a kernel behind, whatever happened
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_and_signal(root: Path, scratch, run_id: str, signum: int) -> subprocess.CompletedProcess:
    """Start ``workbench report``, send ``signum`` once 02_slow runs, and wait for it to end."""
    (root / "slow-started").unlink(missing_ok=True)
    tmp, runtime = scratch
    env = {**os.environ, "TMPDIR": str(tmp), "JUPYTER_RUNTIME_DIR": str(runtime)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "report", "--run-id", run_id],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (root / "slow-started").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"02_slow never started (exit {proc.returncode}):\n{err}")
        time.sleep(0.1)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=90)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def hidden_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_records_the_run_as_interrupted_and_cleans_up(stoppable, scratch, signum):
    name = signal.Signals(signum).name
    run_id = f"stopped-{name}"
    done = start_and_signal(stoppable, scratch, run_id, signum)
    assert done.returncode == 128 + signum, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    # Progress lines carry the time when stderr is not a terminal (cron mail, a log file).
    last = re.sub(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", "", done.stderr.strip().splitlines()[-1])
    assert last == f"workbench report: interrupted by {name}; run {run_id} recorded as interrupted in reports/{run_id}; reports/latest unchanged"
    assert [line for line in done.stderr.splitlines() if "interrupted" in line] == [done.stderr.strip().splitlines()[-1]]  # one line about it

    folder = stoppable / "reports" / run_id
    run = json.loads((folder / "run.json").read_text())
    assert (run["state"], run["ok"], run["reason"]) == ("interrupted", False, f"interrupted by {name}")
    assert run["planned"] == PLANNED and run["current"] == "02_slow"
    assert [nb["name"] for nb in run["notebooks"]] == ["01_typed_parameters"] and run["not_run"] == PLANNED[1:]
    page = (folder / "index.html").read_text()
    assert f"<span class='failed'>interrupted by {name}: 1 of 3 notebooks done</span>" in page
    assert "<h2>02_slow</h2><p><span class='failed'>interrupted</span>" in page
    assert "<h2>03_no_parameters</h2><p><span class='pending'>not run</span>" in page
    assert "all reports succeeded" not in page
    row = next(r for r in (stoppable / "reports" / "index.html").read_text().split("<tr>") if f">{run_id}<" in r)
    assert "<td class='failed'>interrupted</td>" in row

    assert os.readlink(stoppable / "reports" / "latest") == "good"  # never moved
    assert hidden_files(folder) == [] and sorted(os.listdir(folder / "executed")) == ["01_typed_parameters.ipynb"]
    tmp, runtime = scratch
    assert os.listdir(tmp) == [] and os.listdir(runtime) == []  # kernel sockets and connection files
    assert processes_naming(str(tmp)) == []  # the kernel is gone
    with try_lock(stoppable / "reports" / LOCK_NAME, "still held"):  # released
        pass


def test_a_killed_run_says_running_or_killed_and_never_looks_good(stoppable, scratch):
    done = start_and_signal(stoppable, scratch, "killed", signal.SIGKILL)
    assert done.returncode == -signal.SIGKILL
    folder = stoppable / "reports" / "killed"
    run = json.loads((folder / "run.json").read_text())
    assert (run["state"], run["ok"], run["current"], run["not_run"]) == ("running", False, "02_slow", PLANNED[1:])
    page = (folder / "index.html").read_text()
    assert "<span class='running'>running or killed: 1 of 3 notebooks done</span>" in page
    assert "<h2>03_no_parameters</h2><p><span class='pending'>not run</span>" in page
    assert "all reports succeeded" not in page

    # The OS released the lock when the process died: the next run goes ahead and lists the killed one.
    after = run_report(load_config(stoppable / "workbench.yaml"), notebooks=["03"], run_id="after-kill", log=lambda *_: None)
    assert after.ok
    row = next(r for r in (stoppable / "reports" / "index.html").read_text().split("<tr>") if ">killed<" in r)
    assert "<td class='running'>running or killed</td>" in row and "not run: 02_slow, 03_no_parameters" in row
