"""Builders of test data shared by several test modules (plain functions; fixtures live in conftest.py)."""

import numpy as np
import pandas as pd
from conftest import make_project

from workbench.alerting.policy import window_verdicts
from workbench.config import load_config
from workbench.contracts import NotebookStatus
from workbench.detect.base import VerdictKind, model_verdicts, verdict_frame
from workbench.report.results import NotebookResult, RunResult

# -- fixture notebooks -------------------------------------------------------------------


def write_notebook(path, *cells: str, parameters: str | None = None) -> None:
    """A numbered fixture notebook: an optional parameters cell, then ``cells``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


# -- report runs -----------------------------------------------------------------------


def run_result(reports, run_id, *notebooks, parameters=None, state="complete", planned=None) -> RunResult:
    """A run as recorded; by default complete, having planned exactly the notebooks given."""
    folder = reports / run_id
    folder.mkdir(parents=True)
    result = RunResult(
        run_id=run_id,
        folder=folder,
        started="2026-09-01 10:00:00 UTC",
        source="sample",
        commit="abc1234",
        parameters=parameters or {},
        planned=planned if planned is not None else [nb.name for nb in notebooks],
        state=state,
    )
    result.notebooks.extend(notebooks)
    return result


def ok(name, headline=None) -> NotebookResult:
    """A notebook that succeeded, with its page and executed copy recorded."""
    return NotebookResult(name, NotebookStatus.OK, 1.34, html=f"{name}.html", executed=f"executed/{name}.ipynb", headline=headline)


# -- forecasting -------------------------------------------------------------------------


def usage(days: int = 56, noise: float = 2.0, slope: float = 0.0, seed: int = 0, start: str = "2026-01-05") -> pd.Series:
    """Hourly CPU-like usage: a daily cycle, quieter weekends, noise, an optional trend per day."""
    index = pd.date_range(start, periods=days * 24, freq="1h", tz="UTC")
    hour, weekday = index.hour.to_numpy(), index.day_of_week.to_numpy()
    t = np.arange(len(index)) / 24
    base = 40 + 15 * np.sin(2 * np.pi * (hour - 6) / 24) - 10 * (weekday >= 5) + slope * t
    rng = np.random.default_rng(seed)
    return pd.Series(base + rng.normal(0, noise, len(index)), index=index, name="cpu")


# -- capacity ----------------------------------------------------------------------------


def capacity_config(tmp_path):
    """A 14-day sample project with checkout's CPU (40 vCPU) and traffic (10 replicas of 50 req/s) sized."""
    capacity = {
        "horizon": "7D",
        "services": {
            "checkout": {
                "cpu_usage": {"provisioned": 40, "unit": "vCPU", "unit_cost": 25},
                "request_rate": {"provisioned": 10, "unit": "replicas", "unit_cost": 100, "per_unit": 50},
            }
        },
    }
    return load_config(make_project(tmp_path / "wb", capacity=capacity))


# -- alerting: 16 windows of 15 minutes ----------------------------------------------------

INDEX = pd.date_range("2026-01-05T00:00Z", periods=16, freq="15min")


def verdicts(model_conf=None, rules=None, planned=None):
    sources = []
    if model_conf is not None:
        sources.append(model_verdicts(pd.Series(model_conf, index=INDEX), "15min", threshold=75))
    if rules:
        first = [INDEX[i] + pd.Timedelta("3min") for i in rules]
        sources.append(verdict_frame(INDEX[list(rules)], VerdictKind.RULE, True, detail=list(rules.values()), first_seen=first))
    plan = pd.Series(planned, index=INDEX) if planned is not None else None
    return window_verdicts(INDEX, "15min", sources, plan)


def conf(*hot):
    values = np.full(len(INDEX), 10.0)
    for i in hot:
        values[i] = 90.0
    return values
