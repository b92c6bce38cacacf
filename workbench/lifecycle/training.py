"""Train a service's model and score its windows, retraining on a rolling window.

``score_rolling`` is how the evaluation stays honest: each week is scored by a
model trained only on the weeks before it (incidents removed, as labelled so
far), the way a model retrained every week in production would have scored it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench._util import infer_step
from workbench.contracts import CANONICAL_METRICS, Side
from workbench.detect.forest import IsolationForestDetector
from workbench.errors import DataError, DataWarning
from workbench.features.context import remove_incidents, remove_planned
from workbench.features.service import (
    BAD_SIDE,
    FEATURE_CONTEXT,
    SUMMARY_FEATURES,
    ServiceFeatures,
)
from workbench.lifecycle.drift import DriftReference, promised_alarm_rate
from workbench.quality import missing_metrics
from workbench.settings import ModelSettings

__all__ = [
    "ServiceModel",
    "data_digest",
    "describe_model",
    "model_card",
    "model_matrix",
    "score_rolling",
    "score_windows",
    "train_latest",
    "train_service",
    "training_windows",
]


@dataclass
class ServiceModel:
    """A fitted feature transformer and detector for one service, with what it was trained on."""

    service: str
    features: ServiceFeatures
    detector: IsolationForestDetector
    trained_from: pd.Timestamp
    trained_to: pd.Timestamp
    training_windows: int
    metadata: dict = field(default_factory=dict)
    #: ``score_samples`` of the training windows (for the score distribution plot).
    training_raw: np.ndarray | None = None


def model_matrix(features: pd.DataFrame) -> pd.DataFrame:
    """The columns the forest sees: the z-features.

    Hour and weekday are already inside every residual (slot baselines); rare
    binary flags (campaign, deploy) would be isolated as anomalies in themselves.
    The context columns stay in the feature frame for routing and explanations.
    """
    return features[[c for c in features.columns if c.endswith("_z")]]


def _rows(duration: str, window: pd.Timedelta) -> int:
    return max(1, int(pd.Timedelta(duration) / window))


def train_service(
    service: str,
    windows: pd.DataFrame,
    incidents: pd.DataFrame,
    events: pd.DataFrame,
    settings: ModelSettings,
    drift_span: str = "1D",
) -> ServiceModel:
    """Fit features and detector on ``windows`` with incident periods removed.

    The model keeps a drift profile of its training windows (``metadata["drift_reference"]``,
    spans of ``drift_span``: :class:`~workbench.lifecycle.drift.DriftReference`).

    Raises
    ------
    DataError
        Too little clean history (see :meth:`ServiceFeatures.fit`; at least 7 days).
    """
    width = infer_step(windows.index)
    absent = missing_metrics(windows, CANONICAL_METRICS)
    if absent:
        # It still learns from the others, but nobody should believe it watches these.
        warnings.warn(f"{service}: no {', '.join(absent)} data: the model is trained without them and cannot alert on them", DataWarning, stacklevel=2)
    normal = training_windows(service, windows, incidents, events, settings).notna().any(axis=1)
    features = ServiceFeatures().fit(windows, events=events, normal=normal)
    # Features on the contiguous windows first, then keep the normal rows: trends must
    # not be differences across a removed incident.
    X = model_matrix(features.transform(windows, events=events))[normal.to_numpy()].dropna()
    detector = IsolationForestDetector(
        n_estimators=settings.n_estimators,
        extreme_features={c: BAD_SIDE.get(c, Side.BOTH) for c in X.columns},
        alarm_confidence=settings.alarm_confidence,
        confidence_period=_rows(settings.confidence_period, width),
        random_state=settings.random_state,
    ).fit(X)
    model = ServiceModel(
        service=service,
        features=features,
        detector=detector,
        trained_from=windows.index[0],
        trained_to=windows.index[-1] + width,
        training_windows=len(X),
        metadata={
            "removed_windows": int((~normal).sum()),
            "feature_names": list(X.columns),
            "data_sha256": data_digest(windows),
        },
    )
    model.training_raw = detector.score_samples(X)
    # What drift checks compare later windows with (small; kept in the model and its card).
    # Summary features only echo the metrics' own, and would count every shift twice.
    profiled = X.drop(columns=[c for c in SUMMARY_FEATURES if c in X.columns])
    model.metadata["drift_reference"] = DriftReference.from_training(
        profiled, model.training_raw, promised_alarm_rate(detector), span=drift_span
    ).as_dict()
    return model


def data_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's index, columns and values: the same training data gives the same digest."""
    import hashlib

    digest = hashlib.sha256()
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def training_windows(service: str, windows: pd.DataFrame, incidents: pd.DataFrame, events: pd.DataFrame, settings: ModelSettings) -> pd.DataFrame:
    """``windows`` with labelled incidents (plus margin) and planned events blanked out (NaN rows).

    Blanked, not dropped, so a plot shows what the model did not learn from.
    """
    # The data's own window width (what config.window made of it): no width is assumed here.
    width = infer_step(windows.index)
    normal = remove_incidents(windows, incidents[incidents["service"] == service], settings.incident_margin, window=width)
    normal = remove_planned(normal, events, window=width)
    return normal.reindex(windows.index)


def train_latest(
    service: str, windows: pd.DataFrame, incidents: pd.DataFrame, events: pd.DataFrame, settings: ModelSettings, drift_span: str = "1D"
) -> ServiceModel:
    """Train on the most recent ``train_span`` of ``windows``: the model production would use now."""
    recent = windows[windows.index >= windows.index[-1] - pd.Timedelta(settings.train_span)]
    return train_service(service, recent, incidents, events, settings, drift_span)


def describe_model(model: ServiceModel) -> dict:
    """Headline facts of a trained model, in plain words (saved with each version, printed by
    ``workbench train``): service, training range (UTC, end exclusive), windows learned from
    and left out, how many features it watches, and the confidence (0-100) at which it alarms.

    The detector's raw alarm score is an internal of the forest; it is in the model card
    (:func:`model_card`), not here.
    """
    return {
        "service": model.service,
        "trained from": f"{model.trained_from:%Y-%m-%d %H:%M}",
        "trained to": f"{model.trained_to:%Y-%m-%d %H:%M}",
        "training windows": model.training_windows,
        "windows left out (incidents, campaigns, maintenance)": model.metadata["removed_windows"],
        "features": len(model.metadata["feature_names"]),
        "alarm confidence": model.detector.alarm_confidence,
    }


def model_card(model: ServiceModel) -> dict:
    """The machine-readable facts a saved version keeps: what it learned from and how it decides.

    Training range (UTC, end exclusive), the training data's digest, the feature schema,
    the calibration and thresholds, and the detector's settings (seed included), so a
    version can be compared with another or rebuilt from the same data and code.
    """
    detector = model.detector
    return {
        "service": model.service,
        "trained_from": model.trained_from.isoformat(),
        "trained_to": model.trained_to.isoformat(),
        "training_windows": model.training_windows,
        "removed_windows": model.metadata["removed_windows"],
        "data_sha256": model.metadata.get("data_sha256"),
        "feature_schema": list(model.metadata["feature_names"]),
        "calibration": {
            "alarm_confidence": detector.alarm_confidence,
            "confidence_period_windows": detector.confidence_period,
            "alarm_raw_score": float(detector.offset_),
        },
        "detector": {k: v for k, v in detector.get_params().items() if isinstance(v, (int, float, str, bool, type(None)))},
    }


def score_windows(model: ServiceModel, windows: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Per window: ``raw`` (lower = more abnormal), ``confidence`` (0-100) and ``anomalous``.

    Windows with a missing metric (a gap) get NaN and ``anomalous`` False: no data, no verdict.
    """
    X = model_matrix(model.features.transform(windows, events=events))
    ok = X.notna().all(axis=1).to_numpy()
    out = pd.DataFrame(index=windows.index, columns=["raw", "confidence"], dtype=float)
    if ok.any():
        raw = model.detector.score_samples(X[ok])
        out.loc[ok, "raw"] = raw
        out.loc[ok, "confidence"] = model.detector.confidence_from_scores(raw)
    out["anomalous"] = (out["confidence"] >= model.detector.alarm_confidence).fillna(False)
    return out


def score_rolling(
    service: str,
    windows: pd.DataFrame,
    incidents: pd.DataFrame,
    events: pd.DataFrame,
    settings: ModelSettings,
    start: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, list[ServiceModel]]:
    """Score every window with a model trained only on the past.

    From ``start`` (default and at the earliest: ``min_train`` after the first window),
    every ``retrain_every`` a model is trained on the trailing ``train_span`` and scores
    the next period. Windows before that get no verdict (NaN).

    Returns
    -------
    (scores, models)
        Scores as :func:`score_windows` for all windows; the models in order.
    """
    if windows.empty:
        raise DataError(f"{service}: no windows to score")
    first = windows.index[0]
    earliest = first + pd.Timedelta(settings.min_train)
    start = earliest if start is None else max(pd.Timestamp(start), earliest)
    if start >= windows.index[-1]:
        raise DataError(f"{service}: need more than {settings.min_train} of history before the first verdict")
    scores = pd.DataFrame(index=windows.index, columns=["raw", "confidence"], dtype=float)
    scores["anomalous"] = False
    models = []
    step = pd.Timedelta(settings.retrain_every)
    cut = start
    while cut <= windows.index[-1]:
        past = windows[(windows.index >= cut - pd.Timedelta(settings.train_span)) & (windows.index < cut)]
        known = incidents[incidents["start"] < cut]  # labels an on-call team would have by then
        model = train_service(service, past, known, events, settings)
        models.append(model)
        # Transform with history before the period, so trend features have their past.
        context = windows[(windows.index >= cut - FEATURE_CONTEXT) & (windows.index < cut + step)]
        period = score_windows(model, context, events).loc[cut : cut + step - pd.Timedelta("1ns")]
        scores.loc[period.index] = period
        cut += step
    scores["anomalous"] = scores["anomalous"].astype(bool)
    return scores, models
