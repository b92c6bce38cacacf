"""The runs under ``reports/``: listed newest first by start time, a free folder for a new
run, ``latest``, and pruning the oldest.

Everything here that changes the folder runs under the report lock (see
:mod:`workbench.report.runner`), so no other run is in progress while it looks: a run that
still says ``running`` then is one that was killed outright.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["free_run_id", "latest_target", "point_latest", "prune_runs", "run_records"]

#: Hidden names a pruned run takes before it is removed (see :func:`prune_runs`).
_REMOVING = ".removing-"
_EPOCH = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def _started(run: dict) -> dt.datetime:
    """When a run started, from its record (``2026-09-01 10:00:00 UTC``); unknown sorts oldest."""
    try:
        return dt.datetime.strptime(run.get("started", ""), "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=dt.timezone.utc)
    except (TypeError, ValueError):
        return _EPOCH


def run_records(reports: Path) -> list[dict]:
    """Every run's ``run.json`` data under ``reports/``, newest first by start time.

    By start time, not by name: a run id is whatever the operator chose (``nightly-...``,
    ``adhoc``), so names sort by nothing useful. Runs that started in the same second come
    in reverse order of their ids. ``latest`` (a link), hidden folders and folders whose
    ``run.json`` is missing or unreadable are left out. ``run_id`` is the folder's name.
    """
    runs = []
    for run_file in reports.glob("*/run.json"):
        folder = run_file.parent
        if folder.is_symlink() or folder.name.startswith("."):
            continue
        try:
            run = json.loads(run_file.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(run, dict):
            runs.append({**run, "run_id": folder.name})
    return sorted(runs, key=lambda run: (_started(run), run["run_id"]), reverse=True)


def free_run_id(reports: Path, wanted: str) -> str:
    """``wanted`` if no run has it, else the first free ``wanted-2``, ``wanted-3`` ...

    A run is never overwritten: a rerun of ``nightly-2026-11-27`` on the same day becomes
    ``nightly-2026-11-27-2``. Call it under the report lock, so the name stays free.
    """
    candidate, n = wanted, 1
    while os.path.lexists(reports / candidate):
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def latest_target(reports: Path) -> str | None:
    """The run ``reports/latest`` points at, or ``None``."""
    try:
        return Path(os.readlink(reports / "latest")).name
    except OSError:
        return None


def point_latest(reports: Path, run_id: str) -> None:
    """Point ``reports/latest`` at ``run_id`` (a relative link)."""
    # Swapped in with one rename: readers never see a missing or half-made 'latest'.
    tmp = reports / f".latest-{secrets.token_hex(4)}"
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, reports / "latest")


def prune_runs(reports: Path, keep: int, protect: set[str], log: Callable[[str], None]) -> list[str]:
    """Remove the runs beyond the ``keep`` newest (by start time); return the ids removed.

    Never ``latest``'s run nor those in ``protect`` (the run in progress). Each run is
    first renamed to a hidden name, so the runs index and readers never see half of one;
    what a prune killed part-way left under such a name is removed by the next one. A run
    that cannot be removed is named in ``log`` and left; a prune never fails a run.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    spared = set(protect) | {latest_target(reports)}
    removed = []
    for run in run_records(reports)[keep:]:
        run_id = run["run_id"]
        if run_id in spared:
            continue
        try:
            doomed = reports / f"{_REMOVING}{run_id}-{secrets.token_hex(4)}"
            os.rename(reports / run_id, doomed)
        except OSError as exc:
            log(f"could not remove old run {run_id}: {exc.strerror or exc}")
            continue
        removed.append(run_id)
        shutil.rmtree(doomed, ignore_errors=True)
    for left in reports.glob(f"{_REMOVING}*"):
        if left.is_dir() and not left.is_symlink():
            shutil.rmtree(left, ignore_errors=True)
    return removed
