"""Why the model flagged a window: SHAP top features, computed for alerts only.

SHAP's TreeExplainer explains an Isolation Forest's expected path length: a
negative contribution shortens the path, i.e. pushes the window towards
anomalous. For each explained row the ``k`` features with the most negative
contributions are reported with their value (z units: + above the usual level
for that hour, - below) and contribution.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["Explainer", "format_top"]


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


def format_top(top: list[dict]) -> str:
    """``error_rate_z=+31.2 (above usual), ...``: one line for an alert table."""
    return ", ".join(f"{t['feature']}={t['value']:+.1f} ({t['direction']})" for t in top)
