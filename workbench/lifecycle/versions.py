"""Model versions on disk: save, list, load. Each save is a new version; nothing is overwritten.

``models/<service>/<version>/`` holds ``model.joblib`` and ``metadata.json``. A save
is written into a temporary folder and renamed into place, so a crash never leaves
a half-written version, and a failed run never replaces a good model.

The metadata records the sha256 of the model file. A model file is never unpickled
unless its bytes match that checksum: the bytes are read once, hashed, and only then
unpickled from memory, so the file cannot change between the check and the load.
Which version is used is an alias's job (:mod:`workbench.lifecycle.aliases`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import warnings
from pathlib import Path

from workbench._util import atomic_dir, timestamped_id
from workbench.config import Config
from workbench.errors import DataError, DataWarning

__all__ = ["MODEL_FILE", "code_version", "list_versions", "load_model", "load_version", "remove_version", "save_model", "service_folder", "verify_version"]

MODEL_FILE = "model.joblib"


def service_folder(config: Config, service: str) -> Path:
    """``models/<service>/``: the service's versions, aliases and history."""
    return config.path("models") / config.check_service(service)


def code_version() -> str:
    """The git commit the package runs from (``+dirty`` with local changes), else its version."""
    import workbench

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"workbench {workbench.__version__}"
    return commit + ("+dirty" if dirty else "")


def save_model(config: Config, model, metadata: dict) -> Path:
    """Store ``model`` with ``metadata`` as a new version; return its folder."""
    version = timestamped_id()
    target = service_folder(config, model.service) / version
    import joblib  # here, not at import: listing and verifying versions stay cheap

    with atomic_dir(target) as tmp:
        joblib.dump(model, tmp / MODEL_FILE)
        digest = hashlib.sha256((tmp / MODEL_FILE).read_bytes()).hexdigest()
        # saved_at (to the microsecond) orders saves that share the id's second.
        saved_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
        facts = {"version": version, "saved_at": saved_at, **metadata, "model_file": MODEL_FILE, "sha256": digest}
        if hasattr(model, "detector"):  # a ServiceModel: keep its card and the code that trained it
            from workbench.lifecycle.training import model_card

            facts["card"] = {**model_card(model), "code": code_version()}
        (tmp / "metadata.json").write_text(json.dumps(facts, indent=2, default=str))
    return target


def list_versions(config: Config, service: str) -> list[dict]:
    """Metadata of every complete version, oldest first (a killed save's hidden temporary folder is not one)."""
    folder = service_folder(config, service)
    if not folder.is_dir():
        return []
    out = []
    for meta in sorted(folder.glob("*/metadata.json")):
        if meta.parent.name.startswith("."):
            continue
        try:
            data = json.loads(meta.read_text())
            if not isinstance(data, dict) or data.get("version") != meta.parent.name:
                raise ValueError(f"it names version {data.get('version') if isinstance(data, dict) else data!r}")
        except (OSError, ValueError) as exc:
            # One damaged version must not take the healthy ones down with it (the champion
            # may be another); it is left where it is, named, and never loaded.
            warnings.warn(f"{meta}: unreadable model metadata ({exc}); that version is left out: move it aside", DataWarning, stacklevel=2)
            continue
        out.append(data)
    return sorted(out, key=lambda m: (str(m.get("saved_at", "")), m["version"]))


def load_version(config: Config, service: str, version: str | None = None, *, sha256: str | None = None) -> tuple[object, dict]:
    """The model of ``version`` (default: the newest) and its metadata, read once.

    ``sha256``, when given, must equal the metadata's checksum too (an alias's history row
    records it): checked before the file is read, so a model and metadata changed together
    are still never unpickled.

    Raises
    ------
    DataError
        No saved model; an unknown version (only listed versions are loaded, so a name
        cannot reach outside the service's folder); a file whose sha256 does not match
        its metadata, or metadata without one (never unpickled); a file saved by an
        older layout of the package (its classes moved; train a new version).
    """
    versions = list_versions(config, service)
    if not versions:
        raise DataError(f"no saved model for {service} in {service_folder(config, service)}")
    by_name = {v["version"]: v for v in versions}
    chosen = version or versions[-1]["version"]
    path = service_folder(config, service) / chosen / MODEL_FILE
    if chosen not in by_name or not path.is_file():
        plain = chosen not in (".", "..") and "/" not in chosen and "\\" not in chosen  # never a path outside the folder
        damaged = plain and chosen not in by_name and (service_folder(config, service) / chosen / "metadata.json").is_file()
        why = " (its metadata is unreadable: see the warning)" if damaged else ""
        raise DataError(f"no model version {chosen!r} for {service}{why}")
    expected = by_name[chosen].get("sha256")
    if not expected:
        raise DataError(f"model version {chosen!r} of {service} has no checksum in its metadata; it is not loaded (train a new version)")
    if sha256 is not None and sha256 != expected:
        raise DataError(
            f"model version {chosen!r} of {service} was recorded with another checksum than its metadata now has; "
            "the version was changed after it was promoted, so it is not loaded"
        )
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:
        raise DataError(
            f"model version {chosen!r} of {service}: {path} does not match the checksum saved with it; "
            "the file was changed or damaged after it was saved, so it is not loaded"
        )
    import joblib

    try:
        return joblib.load(io.BytesIO(data)), by_name[chosen]
    except (ModuleNotFoundError, AttributeError) as exc:
        raise DataError(
            f"model version {chosen!r} of {service} was saved by an older version of the workbench "
            f"and cannot be loaded ({exc}); train a new version (workbench train)"
        ) from exc


def remove_version(config: Config, service: str, version: str) -> None:
    """Delete ``version``'s folder: renamed to a hidden name first, so a kill mid-delete leaves no half version."""
    if version not in {v["version"] for v in list_versions(config, service)}:
        raise DataError(f"no model version {version!r} for {service}")
    folder = service_folder(config, service) / version
    hidden = folder.with_name(f".{version}.removing")
    folder.rename(hidden)
    shutil.rmtree(hidden, ignore_errors=True)


def verify_version(config: Config, service: str, version: str, *, sha256: str | None = None) -> dict:
    """``version``'s metadata once its file matches its checksum (and ``sha256``); nothing is unpickled.

    Raises :class:`DataError` as :func:`load_version` does; cheap enough for a rollback to
    check its target before moving an alias.
    """
    meta = {v["version"]: v for v in list_versions(config, service)}.get(version)
    path = service_folder(config, service) / version / MODEL_FILE
    if meta is None or not path.is_file():
        raise DataError(f"no model version {version!r} for {service}")
    if not meta.get("sha256") or (sha256 is not None and sha256 != meta["sha256"]):
        raise DataError(f"model version {version!r} of {service} has no checksum, or another than was recorded; it is not used")
    if hashlib.sha256(path.read_bytes()).hexdigest() != meta["sha256"]:
        raise DataError(
            f"model version {version!r} of {service}: {path} does not match the checksum saved with it; "
            "the file was changed or damaged after it was saved, so it is not loaded"
        )
    return meta


def load_model(config: Config, service: str, version: str | None = None):
    """The model of ``version`` (default: the newest); see :func:`load_version` for the checks."""
    return load_version(config, service, version)[0]
