"""Tests never touch the project: nbval's kernels run on a scratch copy, and a run that changes
the project's data/, models/, reports/ or ``git status`` fails (see conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, describe_changes, project_state, sample_config_file

from workbench.config import load_config
from workbench.sources.sample import sample_path


def test_notebook_kernels_load_a_copy_of_the_project(notebook_env):
    # What a kernel started from notebooks/ with nbval's environment loads: the copy, never the project.
    probe = "import json; from workbench.config import find_root, load_config; print(json.dumps([str(load_config('').root), str(find_root())]))"
    shown = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, **notebook_env}, cwd=REPO / "notebooks",
        capture_output=True, text=True, check=True,
    )
    copy = load_config(notebook_env["WORKBENCH_CONFIG"]).root
    assert json.loads(shown.stdout) == [str(copy), str(copy)]
    assert not copy.is_relative_to(REPO)
    # The sample configuration and the label files, as they were when the run started.
    assert load_config(copy / "workbench.yaml").source.kind == load_config(sample_config_file()).source.kind
    assert {p.name for p in (copy / "data").glob("*.csv")} == {p.name for p in (REPO / "data").glob("*.csv")}


def test_the_copy_reuses_the_projects_sample_cache(notebook_env):
    cached = sample_path(load_config(sample_config_file()))
    if not cached.is_file():
        pytest.skip("the project has no sample cache yet: the notebooks generate one in the copy")
    copied = sample_path(load_config(notebook_env["WORKBENCH_CONFIG"]))
    assert copied.stat().st_size == cached.stat().st_size and not copied.is_symlink()


@pytest.fixture()
def project(tmp_path):
    """A small project with something in each watched folder, in git when git is there."""
    (tmp_path / "data" / "sample").mkdir(parents=True)
    (tmp_path / "data" / "incidents.csv").write_text("id\n")
    (tmp_path / "data" / "sample" / "metrics-0.parquet").write_bytes(b"PAR1")
    (tmp_path / "models" / "checkout" / "v1").mkdir(parents=True)
    (tmp_path / "models" / "checkout" / "v1" / "model.joblib").write_bytes(b"model")
    (tmp_path / "reports" / "run-1").mkdir(parents=True)
    (tmp_path / "reports" / "latest").symlink_to("run-1")
    (tmp_path / "workbench.yaml").write_text("services: [checkout]\n")
    if shutil.which("git"):
        subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
        (tmp_path / ".gitignore").write_text("data/sample/\nmodels/\nreports/\n")
        subprocess.run(["git", "add", "--all"], cwd=tmp_path, check=True)
    return tmp_path


def test_an_untouched_project_shows_no_change(project):
    assert describe_changes(project_state(project), project_state(project)) == []


def test_every_change_to_the_project_is_named(project):
    before = project_state(project)
    (project / "data" / "sample" / "metrics-0.parquet").write_bytes(b"PAR2")  # ignored by git: only the hash sees it
    (project / "models" / "checkout" / "v2").mkdir()
    (project / "models" / "checkout" / "v2" / "model.joblib").write_bytes(b"model")
    (project / "reports" / "run-2").mkdir()
    (project / "reports" / "latest").unlink()
    (project / "reports" / "latest").symlink_to("run-2")
    (project / "data" / "incidents.csv").unlink()
    expected = [
        "changed: data/sample/metrics-0.parquet",
        "changed: reports/latest",
        "new: models/checkout/v2/",
        "new: models/checkout/v2/model.joblib",
        "new: reports/run-2/",
        "removed: data/incidents.csv",
    ]
    if shutil.which("git"):
        (project / "notes.txt").write_text("left behind\n")
        expected += ["new: git status: ?? notes.txt", "new: git status: AD data/incidents.csv", "removed: git status: A  data/incidents.csv"]
    assert sorted(describe_changes(before, project_state(project))) == sorted(expected)
