"""``workbench train``'s workflow (what the 03 notebook does, as a verb): for each service,
load its metrics and labels, train on the most recent ``model.train_span`` with incidents
and planned events left out, and save a new model version. The first version a service
gets becomes its champion; later ones wait for ``workbench retrain``'s comparison or a
person's ``workbench models promote``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.config import Config
from workbench.features.windows import to_windows
from workbench.labels.incidents import load_labels
from workbench.lifecycle.aliases import CHAMPION, aliases, record
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
    #: The service's champion after this run (the new version when it had none).
    champion: str | None = None


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
        model = train_latest(service, windows, incidents, events, config.model, config.lifecycle.drift.span)
        facts = describe_model(model)
        folder = save_model(config, model, facts)
        champion = aliases(config, service).get(CHAMPION)
        if champion is None:
            record(config, service, action="first", moves={CHAMPION: folder.name}, reason="the first model of the service", expect={CHAMPION: None})
            champion = folder.name
        results.append(TrainResult(service, folder.name, folder, facts, champion))
    return results
