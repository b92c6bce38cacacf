"""Shared fixtures: a small sample project in a temporary folder, built once per session.

Tests never write into the repository's own data/ or reports/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from workbench.config import load_config
from workbench.sources.sample import ensure_sample, generate

REPO = Path(__file__).resolve().parents[1]
FIXTURE_NOTEBOOKS = Path(__file__).parent / "notebooks"


def make_project(folder: Path, days: int = 14, notebooks: Path | None = None, **overrides) -> Path:
    """A project folder with a workbench.yaml like the repository's but ``days`` long."""
    settings = yaml.safe_load((REPO / "workbench.yaml").read_text())
    settings["source"]["sample"]["days"] = days
    settings.update(overrides)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "workbench.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    shutil.copytree(notebooks or REPO / "notebooks", folder / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return folder / "workbench.yaml"


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory) -> Path:
    """A 14-day sample project with generated data and the repository's notebooks."""
    config_path = make_project(tmp_path_factory.mktemp("project") / "wb")
    ensure_sample(load_config(config_path))
    return config_path


@pytest.fixture(scope="session")
def sample_config(sample_project):
    return load_config(sample_project)


@pytest.fixture(scope="session")
def full_sample():
    """The full default sample (60 days, six services), generated once."""
    config = load_config(REPO / "workbench.yaml")
    return generate(config.source.sample, list(config.services))


@pytest.fixture(autouse=True)
def _no_root_override(monkeypatch):
    # A WORKBENCH_ROOT left in the developer's shell must not steer the tests.
    monkeypatch.delenv("WORKBENCH_ROOT", raising=False)
    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)
