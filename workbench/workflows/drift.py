"""Drift checks of a service's champion over its newest windows, logged for ``models show`` and 07.

The check (:func:`workbench.lifecycle.drift.check_drift`) compares the last
``lifecycle.drift.span`` of windows before ``at`` with the profile the champion kept of
its training data. Windows inside a labelled incident or a planned event are left out:
an incident or a campaign is not a new normal. Every check is appended to
``models/<service>/drift.jsonl`` (atomic, under the service's lock).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.config import Config
from workbench.features.context import context_flags
from workbench.features.service import FEATURE_CONTEXT
from workbench.labels.incidents import read_incidents
from workbench.lifecycle.aliases import service_lock
from workbench.lifecycle.drift import DriftReference, check_drift
from workbench.lifecycle.journal import append_row, read_rows
from workbench.lifecycle.training import ServiceModel, model_matrix
from workbench.lifecycle.versions import service_folder

__all__ = ["DRIFT_LOG", "check_service_drift", "drift_log", "drift_table", "excluded_windows"]

DRIFT_LOG = "drift.jsonl"
CONTEXT = FEATURE_CONTEXT


def drift_log(config: Config, service: str) -> list[dict]:
    """Every drift check of ``service``, oldest first."""
    return read_rows(service_folder(config, service) / DRIFT_LOG, required=("at", "status"))


def drift_table(config: Config, services: list[str] | None = None) -> pd.DataFrame:
    """One row per logged check: service, at, version, status, windows, worst feature and its PSI."""
    rows = []
    for service in services or list(config.services):
        for check in drift_log(config, service):
            worst = (check.get("features") or [{}])[0]
            rows.append({
                "service": service,
                "at": pd.Timestamp(check["at"]),
                "version": check.get("version"),
                "status": check["status"],
                "windows": check.get("windows"),
                "worst feature": worst.get("feature"),
                "worst PSI": worst.get("psi"),
                "alert rate": (check.get("alert_rate") or {}).get("observed"),
                "promised rate": (check.get("alert_rate") or {}).get("promised"),
            })
    return pd.DataFrame(rows, columns=["service", "at", "version", "status", "windows", "worst feature", "worst PSI", "alert rate", "promised rate"])


def check_service_drift(
    config: Config,
    service: str,
    champion: ServiceModel,
    windows: pd.DataFrame,
    events: pd.DataFrame,
    at: pd.Timestamp,
    *,
    version: str | None = None,
    log: bool = True,
    incidents: pd.DataFrame | None = None,
) -> dict:
    """Check ``champion`` on the span of ``windows`` before ``at``; log and return the check as a dict.

    ``incidents``: the incident log the caller already read (default: read it). A champion
    trained before drift profiles existed gets status ``unknown`` (nothing acts).
    """
    at = pd.Timestamp(at)
    span = pd.Timedelta(config.lifecycle.drift.span)
    row = {"at": at.isoformat(), "service": service, "version": version, "from": (at - span).isoformat()}
    profile = champion.metadata.get("drift_reference")
    if profile is None:
        row.update(status="unknown", windows=0, reasons=["the champion has no training profile (trained by an older version); retrain to check drift"])
    else:
        recent = windows[(windows.index >= at - span - CONTEXT) & (windows.index < at)]
        events = events[events["service"].isin([service, "*"])]
        X = model_matrix(champion.features.transform(recent, events=events)).loc[lambda f: f.index >= at - span]
        X = X[~excluded_windows(config, service, X.index, events, incidents)]
        valid = X.notna().all(axis=1)
        raw = pd.Series(float("nan"), index=X.index)
        if valid.any():
            raw[valid] = champion.detector.score_samples(X[valid])
        flagged = (raw <= champion.detector.offset_).to_numpy()  # confidence at or above the alarm (NaN: not)
        check = check_drift(DriftReference.from_dict(profile), X, raw.to_numpy(), flagged, config.lifecycle.drift)
        row.update(check.as_dict())
    if log:
        path = service_folder(config, service) / DRIFT_LOG
        with service_lock(config, service):
            append_row(path, read_rows(path, required=("at", "status")), row)
    return row


def excluded_windows(
    config: Config, service: str, index: pd.DatetimeIndex, events: pd.DataFrame, incidents: pd.DataFrame | None = None
) -> np.ndarray:
    """True for windows inside a labelled incident of ``service`` or a planned event (campaign, maintenance).

    ``incidents`` defaults to the configured incident log, read here.
    """
    width = pd.Timedelta(config.window)
    out = pd.Series(False, index=index)
    if incidents is None:
        incidents = read_incidents(config.path("incidents"), list(config.services))
    for inc in incidents[incidents["service"] == service].itertuples():
        out |= (index + width > inc.start) & (index < inc.end)
    flags = context_flags(index, events, config.window)
    out |= ((flags["campaign"] == 1) | (flags["maintenance"] == 1)).to_numpy()
    return out.to_numpy()
