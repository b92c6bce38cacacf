"""Why the model flagged a window: SHAP top features, computed for alerts only.

SHAP's TreeExplainer explains an Isolation Forest's expected path length: a
negative contribution shortens the path, i.e. pushes the window towards
anomalous. For each explained row the ``k`` features with the most negative
contributions are reported with their value (z units: + above the usual level
for that time of day, - below) and contribution.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["FEATURE_NAMES", "Explainer", "feature_words", "format_top", "slot_words"]

#: What each model feature measures, in words (the ``_z`` features are deviations from the
#: usual level at their time of day on a weekday or at the weekend, in robust standard deviations).
FEATURE_NAMES = {
    "request_rate_z": "request rate",
    "error_rate_z": "error rate",
    "latency_p95_z": "latency p95",
    "latency_p99_z": "latency p99",
    "cpu_usage_z": "CPU",
    "memory_usage_z": "memory",
    "cpu_excess_z": "CPU beyond what the traffic explains",
    "memory_trend_z": "memory growth over two hours",
    "worst_z": "the most unusual metric",
    "sustained_z": "the most unusual metric over an hour",
}


class Explainer:
    """SHAP for one fitted :class:`~workbench.detect.forest.IsolationForestDetector`; built on first use."""

    def __init__(self, detector, feature_names: list[str]):
        self.detector = detector
        self.feature_names = feature_names
        self._tree = None

    def shap_values(self, X: pd.DataFrame) -> np.ndarray:
        """Contributions per row and feature (path-length units; negative = towards anomalous)."""
        if self._tree is None:
            # Imported here: it costs seconds and most runs explain nothing. shap 0.51's import
            # warns about matplotlib colormap methods (its code, not ours); keep reports clean.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PendingDeprecationWarning)
                import shap

            self._tree = shap.TreeExplainer(self.detector.forest_)
        return np.asarray(self._tree.shap_values(X[self.feature_names].to_numpy(dtype=float)))

    def top(self, X: pd.DataFrame, k: int = 3) -> list[list[dict]]:
        """For each row, the ``k`` features pushing hardest towards anomalous."""
        values = self.shap_values(X)
        out = []
        for row, contrib in zip(X[self.feature_names].to_numpy(dtype=float), values):
            order = np.argsort(contrib)[:k]
            out.append(
                [
                    {
                        "feature": self.feature_names[j],
                        "value": round(float(row[j]), 2),
                        "contribution": round(float(contrib[j]), 3),
                        "direction": "above usual" if row[j] > 0 else "below usual",
                    }
                    for j in order
                    if contrib[j] < 0
                ]
            )
        return out


def slot_words(when: pd.Timestamp) -> str:
    """The baseline a window is compared with: "a weekday 14:15" or "a weekend 03:45".

    The window's own time of day: its slot baseline is centred there (see
    :class:`~workbench.features.service.ServiceFeatures`).
    """
    day = "weekend" if when.day_of_week >= 5 else "weekday"
    return f"a {day} {when:%H:%M}"


def feature_words(feature: str, value: float, when: pd.Timestamp | None = None) -> str:
    """One top feature in words: "latency p95 far above its usual level for a weekday 14:15".

    ``value`` is in z units (robust standard deviations from the slot's usual level; +
    above, - below): "far" from 10, "well" from 4. ``when`` (the window's start) names the
    slot; without it the words stop at "its usual level".
    """
    name = FEATURE_NAMES.get(feature, feature.removesuffix("_z").replace("_", " "))
    degree = "far " if abs(value) >= 10 else "well " if abs(value) >= 4 else ""
    side = "above" if value > 0 else "below"
    slot = f" for {slot_words(when)}" if when is not None else ""
    return f"{name} {degree}{side} its usual level{slot}"


def format_top(top: list[dict], when: pd.Timestamp | None = None) -> str:
    """The top features in words, each with its z value, for alert tables and annotations.

    ``error rate far above its usual level for a weekday 20:00 (z +31.2); CPU well below
    its usual level (z -7.6)``: the slot is named once, on the first feature.
    """
    return "; ".join(
        f"{feature_words(t['feature'], t['value'], when if i == 0 else None)} (z {t['value']:+.1f})" for i, t in enumerate(top)
    )
