"""Scheduled runs an operator can trust: ``latest`` only for a good run of the whole suite,
partial runs listed as such, parameters only some notebooks declare said aloud, a hung
notebook timed out while the run goes on, and old runs pruned (:mod:`workbench.report.runs`,
:mod:`workbench.report.runner`).
"""

import json
import os
import time
from pathlib import Path

import pytest
from builders import write_notebook
from conftest import make_project

from workbench.config import load_config
from workbench.errors import ParameterError
from workbench.report.runner import run_report
from workbench.report.runs import free_run_id, prune_runs, run_records


def quiet(*_):
    pass


def index_row(reports: Path, run_id: str) -> str:
    return next(r for r in (reports / "index.html").read_text().split("<tr>") if f">{run_id}</a>" in r)


# -- latest moves only for the whole suite; a subset is a partial run --------------------------


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """Two quick notebooks; only 01 declares ``count``."""
    notebooks = tmp_path_factory.mktemp("nbs")
    write_notebook(notebooks / "01_counts.ipynb", "import workbench as wb\nwb.show_headline({'count': count})", parameters="count: int = 1  # how many")
    write_notebook(notebooks / "02_plain.ipynb", "print('plain')")
    return load_config(make_project(tmp_path_factory.mktemp("suite") / "p", notebooks=notebooks, labels=False))


def test_only_a_good_run_of_the_whole_suite_moves_latest(suite):
    reports = suite.path("reports")
    subset = run_report(suite, notebooks=["01"], run_id="subset", log=quiet)
    assert subset.ok and subset.partial and not subset.moves_latest
    assert not os.path.lexists(reports / "latest")  # a subset that succeeded is still not 'latest'
    run = json.loads((subset.folder / "run.json").read_text())
    assert run["partial"] is True and run["planned"] == ["01_counts"]
    assert "partial run of 01_counts: never latest" in subset.index.read_text()
    assert "<td>partial run: 01_counts</td>" in index_row(reports, "subset")

    whole = run_report(suite, run_id="whole", log=quiet)
    assert whole.ok and not whole.partial and os.readlink(reports / "latest") == "whole"
    # Every notebook named is the whole suite too, in any order.
    named = run_report(suite, notebooks=["02", "01_counts"], run_id="named", log=quiet)
    assert not named.partial and os.readlink(reports / "latest") == "named"
    run_report(suite, notebooks=["02"], run_id="subset-again", log=quiet)
    assert os.readlink(reports / "latest") == "named"
    assert "partial run" not in index_row(reports, "named") and "partial run: 02_plain" in index_row(reports, "subset-again")


def test_a_parameter_only_some_notebooks_declare_is_applied_there_and_said(suite):
    said = []
    result = run_report(suite, parameters={"count": "4"}, run_id="scoped", log=said.append)
    assert result.ok and result.notebooks[0].headline == {"count": 4}
    assert result.parameter_scope == {"count": ["01_counts"]}
    assert [line for line in said if line.startswith("parameter ")] == [
        "parameter count applies only to 01_counts (the other notebooks do not declare it)"
    ]
    assert "parameters: count=4 (only 01_counts)" in result.index.read_text()
    # A subset in which every notebook declares it: nothing to say.
    said.clear()
    assert run_report(suite, notebooks=["01"], parameters={"count": "2"}, run_id="all-declare", log=said.append).parameter_scope == {}
    assert not [line for line in said if line.startswith("parameter ")]


def test_a_parameter_no_selected_notebook_declares_is_refused(suite):
    with pytest.raises(ParameterError, match="unknown parameter\\(s\\) count; the selected notebooks take: none"):
        run_report(suite, notebooks=["02"], parameters={"count": "4"}, run_id="never", log=quiet)
    assert not (suite.path("reports") / "never").exists()


# -- a hung notebook times out, its kernel is killed, the run goes on --------------------------


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_a_hung_notebook_times_out_and_the_run_goes_on(tmp_path):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(
        notebooks / "01_hangs.ipynb",
        # The kernel and a child of it (a hung query's helper, say) both say who they are.
        "import os, pathlib, subprocess\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        "pathlib.Path(os.environ['WORKBENCH_ROOT'], 'pids').write_text(f'{os.getpid()} {child.pid}')",
        "import time\ntime.sleep(300)",
    )
    write_notebook(notebooks / "02_after.ipynb", "print('still ran')")
    config = load_config(make_project(tmp_path / "p", notebooks=notebooks, labels=False, report={"timeout": "10s"}))
    started = time.monotonic()
    result = run_report(config, run_id="hung", log=quiet)
    assert time.monotonic() - started < 60
    hung, after = result.notebooks
    assert hung.status == "failed" and hung.error == "timed out after 10s (report.timeout); the kernel was killed"
    assert 10 <= hung.seconds < 40
    assert after.status == "ok"  # the run went on
    assert result.state == "complete" and not result.ok and not os.path.lexists(config.path("reports") / "latest")
    assert "timed out after 10s" in (result.folder / "01_hangs.html").read_text()
    kernel, child = map(int, (config.root / "pids").read_text().split())
    deadline = time.monotonic() + 10
    while (alive(kernel) or alive(child)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(kernel) and not alive(child)  # the kernel's whole process group
    assert sorted(p.name for p in result.folder.rglob(".*")) == []  # no temporary files


def test_a_timeout_given_to_the_run_wins_over_the_config(tmp_path):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks / "01_slow.ipynb", "import time\ntime.sleep(300)")
    config = load_config(make_project(tmp_path / "p", notebooks=notebooks, labels=False))
    assert config.report.timeout == "20min"
    result = run_report(config, run_id="t", log=quiet, timeout="8s")
    assert result.notebooks[0].error == "timed out after 8s (report.timeout); the kernel was killed"


# -- run ids, order, pruning (hand-made run folders: no kernels) -------------------------------


def fake_run(reports: Path, run_id: str, started: str, state: str = "complete") -> Path:
    folder = reports / run_id
    (folder / "executed").mkdir(parents=True)
    record = {"run_id": run_id, "started": started, "state": state, "ok": state == "complete", "notebooks": [], "planned": []}
    (folder / "run.json").write_text(json.dumps(record))
    return folder


def test_a_taken_run_id_gets_the_first_free_suffix(tmp_path):
    assert free_run_id(tmp_path, "nightly") == "nightly"
    fake_run(tmp_path, "nightly", "2026-11-27 06:15:00 UTC")
    fake_run(tmp_path, "nightly-2", "2026-11-27 07:00:00 UTC")
    assert free_run_id(tmp_path, "nightly") == "nightly-3"
    (tmp_path / "odd").write_text("")  # a file by that name counts too
    assert free_run_id(tmp_path, "odd") == "odd-2"


def test_runs_are_listed_newest_first_by_start_time_not_by_name(tmp_path):
    fake_run(tmp_path, "aaa-newest", "2026-11-28 06:15:00 UTC")
    fake_run(tmp_path, "zzz-oldest", "2026-11-26 06:15:00 UTC")
    fake_run(tmp_path, "mmm", "2026-11-27 06:15:00 UTC")
    (tmp_path / "latest").symlink_to("mmm", target_is_directory=True)
    assert [run["run_id"] for run in run_records(tmp_path)] == ["aaa-newest", "mmm", "zzz-oldest"]


@pytest.fixture()
def ten_runs(tmp_path):
    """Runs r0 (newest) .. r9 (oldest) in every state, named so that name order is the reverse of start order."""
    for n in range(10):
        fake_run(tmp_path, f"r{9 - n}-{'z' * n}", f"2026-11-{10 + n:02d} 06:00:00 UTC", state=["complete", "failed", "interrupted", "running"][n % 4])
    return tmp_path


def names(reports: Path) -> list[str]:
    return [run["run_id"].split("-")[0] for run in run_records(reports)]


def test_prune_keeps_the_newest_and_latests_run(ten_runs):
    (ten_runs / "latest").symlink_to("r9-", target_is_directory=True)  # the oldest run
    (ten_runs / "notes").mkdir()  # not a run: never touched
    removed = prune_runs(ten_runs, 3, set(), quiet)
    assert names(ten_runs) == ["r0", "r1", "r2", "r9"]
    assert sorted(r.split("-")[0] for r in removed) == ["r3", "r4", "r5", "r6", "r7", "r8"]
    assert (ten_runs / "notes").is_dir() and os.readlink(ten_runs / "latest") == "r9-"
    assert [p.name for p in ten_runs.iterdir() if p.name.startswith(".")] == []


def test_prune_spares_the_run_in_progress_and_sweeps_what_a_killed_prune_left(ten_runs):
    left = ten_runs / ".removing-r5-0000"
    (left / "executed").mkdir(parents=True)
    current = next(p.name for p in ten_runs.iterdir() if p.name.startswith("r6-"))
    prune_runs(ten_runs, 2, {current}, quiet)
    assert names(ten_runs) == ["r0", "r1", "r6"] and not left.exists()
    with pytest.raises(ValueError):
        prune_runs(ten_runs, 0, set(), quiet)


def test_a_run_prunes_beyond_keep_but_never_itself_or_latest(suite):
    reports = suite.path("reports")
    target = os.readlink(reports / "latest")
    fake_run(reports, "from-the-future", "2099-01-01 00:00:00 UTC")  # a skewed clock: newer than any run
    fake_run(reports, "ancient", "2001-01-01 00:00:00 UTC")
    said = []
    result = run_report(suite, notebooks=["02"], run_id="pruner", log=said.append, keep=1)
    left = {run["run_id"] for run in run_records(reports)}
    assert left == {"from-the-future", "pruner", target}  # the newest, the run itself, latest's
    assert any(line.startswith("removed ") and "ancient" in line for line in said)
    page = (reports / "index.html").read_text()
    assert "ancient" not in page and ">pruner</a>" in page and result.ok


def test_keep_below_one_is_refused_before_anything_runs(suite):
    with pytest.raises(ParameterError, match="--keep must be at least 1"):
        run_report(suite, notebooks=["02"], run_id="never-kept", log=quiet, keep=0)
    assert not (suite.path("reports") / "never-kept").exists()


def test_a_bad_timeout_given_to_the_run_is_refused_before_anything_runs(suite):
    with pytest.raises(ParameterError, match="timeout 'soon'"):
        run_report(suite, notebooks=["02"], run_id="never-timed", log=quiet, timeout="soon")
    assert not (suite.path("reports") / "never-timed").exists()
