"""nbval runs these notebooks top to bottom as JupyterLab would, but never on the project
itself: before a notebook's kernel starts, ``WORKBENCH_ROOT`` points at a temporary copy of
the project (its ``workbench.yaml`` and label files), so what the notebooks write (the sample
cache, a saved model) lands there, and the project's ``data/``, ``models/`` and ``reports/``
stay exactly as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_copy: dict[str, Path] = {}


def _scratch_project() -> Path:
    if "root" not in _copy:
        root = Path(tempfile.mkdtemp(prefix="wb-nbval-"))
        shutil.copy2(REPO / "workbench.yaml", root / "workbench.yaml")
        (root / "data").mkdir()
        # The label files: a team's under data/, the bundled sample's under data/sample-labels/.
        for labels in [*(REPO / "data").glob("*.csv"), *(REPO / "data").glob("sample-labels/*.csv")]:
            target = root / labels.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(labels, target)
        _copy["root"] = root
    return _copy["root"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before the default setup, which starts the notebook's kernel: the kernel inherits this.
    if item.path.suffix == ".ipynb":
        _copy.setdefault("saved", os.environ.get("WORKBENCH_ROOT"))
        os.environ["WORKBENCH_ROOT"] = str(_scratch_project())


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item):
    # The kernel keeps what it started with; the other tests in this process must not.
    if item.path.suffix == ".ipynb" and "saved" in _copy:
        saved = _copy.pop("saved")
        if saved is None:
            os.environ.pop("WORKBENCH_ROOT", None)
        else:
            os.environ["WORKBENCH_ROOT"] = saved


def pytest_sessionfinish(session):
    root = _copy.pop("root", None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)
