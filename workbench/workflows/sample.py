"""``workbench sample``'s workflow: generate the sample metrics, and write the sample's labels
into the project's incident log and events calendar only when asked.
"""

from __future__ import annotations

from pathlib import Path

from workbench.config import Config
from workbench.labels.incidents import write_csv
from workbench.sources.sample import ensure_sample, sample_labels

__all__ = ["prepare_sample", "write_sample_labels"]


def write_sample_labels(config: Config) -> list[Path]:
    """Write the sample's incidents and events over ``paths.incidents`` and ``paths.events``.

    This replaces the team's label files: call it only on purpose (a new sample project,
    or ``workbench sample --write-labels``). Each file is replaced atomically.
    """
    incidents, events = sample_labels(config)
    written = []
    for frame, path in ((incidents, config.path("incidents")), (events, config.path("events"))):
        write_csv(frame, path)
        written.append(path)
    return written


def prepare_sample(config: Config, *, force: bool = False, write_labels: bool = False) -> Path:
    """The cached sample metrics (generated if missing or ``force``); the labels too if ``write_labels``."""
    path = ensure_sample(config, force=force)
    if write_labels:
        write_sample_labels(config)
    return path
