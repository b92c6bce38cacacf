"""Model versions on disk: save, list, load. Each save is a new version; nothing is overwritten.

``models/<service>/<version>/`` holds ``model.joblib`` and ``metadata.json``. A save
is written into a temporary folder and renamed into place, so a crash never leaves
a half-written version, and a failed run never replaces a good model. ``latest``
is the newest complete version (promotion and rollback come with retraining).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import joblib

from workbench._util import atomic_dir, timestamped_id
from workbench.config import Config
from workbench.errors import DataError

__all__ = ["list_versions", "load_model", "save_model"]


def _folder(config: Config, service: str) -> Path:
    return config.path("models") / config.check_service(service)


def save_model(config: Config, model, metadata: dict) -> Path:
    """Store ``model`` with ``metadata`` as a new version; return its folder."""
    version = timestamped_id()
    target = _folder(config, model.service) / version
    with atomic_dir(target) as tmp:
        joblib.dump(model, tmp / "model.joblib")
        # saved_at (to the microsecond) orders saves that share the id's second.
        saved_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
        (tmp / "metadata.json").write_text(json.dumps({"version": version, "saved_at": saved_at, **metadata}, indent=2, default=str))
    return target


def list_versions(config: Config, service: str) -> list[dict]:
    """Metadata of every complete version, oldest first (a killed save's hidden temporary folder is not one)."""
    folder = _folder(config, service)
    if not folder.is_dir():
        return []
    out = []
    for meta in sorted(folder.glob("*/metadata.json")):
        if meta.parent.name.startswith("."):
            continue
        out.append(json.loads(meta.read_text()))
    return sorted(out, key=lambda m: (str(m.get("saved_at", "")), m["version"]))


def load_model(config: Config, service: str, version: str | None = None):
    """The model of ``version`` (default: the newest).

    Raises
    ------
    DataError
        No saved model, an unknown version (only listed versions are loaded, so a name
        cannot reach outside the service's folder), or a file saved by an older layout
        of the package (its classes moved; retrain to get a loadable version).
    """
    versions = list_versions(config, service)
    if not versions:
        raise DataError(f"no saved model for {service} in {_folder(config, service)}")
    known = [v["version"] for v in versions]
    chosen = version or known[-1]
    path = _folder(config, service) / chosen / "model.joblib"
    if chosen not in known or not path.is_file():
        raise DataError(f"no model version {chosen!r} for {service}")
    try:
        return joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise DataError(
            f"model version {chosen!r} of {service} was saved by an older version of the workbench "
            f"and cannot be loaded ({exc}); train a new version (workbench report --notebooks 03)"
        ) from exc
