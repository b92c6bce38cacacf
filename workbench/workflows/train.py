"""``workbench train``'s workflow (what the 03 notebook does, as a verb): for each service,
load its metrics and labels, train on the most recent ``model.train_span`` with incidents
and planned events left out, and save a new model version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.config import Config
from workbench.features.windows import to_windows
from workbench.labels.incidents import load_labels
from workbench.lifecycle.training import describe_model, train_latest
from workbench.lifecycle.versions import save_model
from workbench.sources import load_service

__all__ = ["TrainResult", "train_services"]


@dataclass(frozen=True)
class TrainResult:
    """One service's new model version: where it was saved and its headline facts."""

    service: str
    version: str
    folder: Path
    facts: dict


def train_services(config: Config, services: list[str] | None = None, source: str | None = None) -> list[TrainResult]:
    """Train and save a model for each of ``services`` (default: all); never replaces a version.

    Raises :class:`~workbench.errors.DataError` naming the service when its history is too
    short to train on; services before it keep their new versions.
    """
    results = []
    for service in services or list(config.services):
        config.check_service(service)
        samples = load_service(config, service, source=source)
        incidents, events = load_labels(config, service, samples.index[0], samples.index[-1])
        windows = to_windows(samples, config.window, config.max_fill)
        model = train_latest(service, windows, incidents, events, config.model)
        facts = describe_model(model)
        folder = save_model(config, model, facts)
        results.append(TrainResult(service, folder.name, folder, facts))
    return results
