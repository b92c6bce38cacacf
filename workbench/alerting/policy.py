"""The hybrid policy: verdicts per window become grouped, deduplicated alerts.

Per window the inputs are a model verdict (confidence, anomalous) and the rules
that fired in it. The policy:

* a critical rule alone -> ``page`` (known failure mode: wake someone now);
* the model alone, confidence >= ``investigate_confidence`` -> ``investigate``;
* both in the same alert -> ``page_with_context`` (the page carries the model's why);
* a model-only flag in a planned campaign or maintenance window is muted: the
  surge is expected, and a rule still pages if something breaks during it.

Persistence, grouping and suppression are separate stages after the verdicts
(Merlion's alarm post-processing), in :mod:`workbench.alerting.postprocess`.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["action_for", "window_verdicts"]

def window_verdicts(
    index: pd.DatetimeIndex,
    window: str,
    model: pd.DataFrame | None,
    rule_windows: pd.DataFrame | None,
    planned: pd.Series | None = None,
    investigate_confidence: float = 75.0,
) -> pd.DataFrame:
    """One row per window: ``model`` (bool), ``confidence``, ``rules``, ``first_fire``, ``muted``.

    Parameters
    ----------
    index
        Window starts.
    window
        Window width.
    model
        ``confidence`` per window (NaN = no verdict), or ``None`` for a rules-only system.
    rule_windows
        From :func:`workbench.detect.rules.fire_windows`, or ``None`` for a model-only system.
    planned
        True for windows inside a campaign or maintenance.
    """
    out = pd.DataFrame(index=index)
    if model is not None:
        confidence = model["confidence"].reindex(index)
        out["confidence"] = confidence
        out["model"] = (confidence >= investigate_confidence).fillna(False).astype(bool)
    else:
        out["confidence"] = float("nan")
        out["model"] = False
    if rule_windows is not None and not rule_windows.empty:
        out["rules"] = rule_windows["rules"].reindex(index).fillna("")
        out["first_fire"] = rule_windows["first_fire"].reindex(index)
    else:
        out["rules"] = ""
        out["first_fire"] = pd.NaT
    planned = planned.reindex(index).fillna(False).astype(bool) if planned is not None else pd.Series(False, index=index)
    out["muted"] = out["model"] & planned & (out["rules"] == "")
    out["model"] &= ~out["muted"]
    out["window_end"] = index + pd.Timedelta(window)
    out["seen_at"] = out["window_end"]  # a model verdict is known when its window closes
    return out


def action_for(rule: bool, model: bool) -> tuple[str, str]:
    """The policy for one alert: ``(action, source)`` from whether a rule and the model took part."""
    if rule and model:
        return "page_with_context", "both"
    return ("page", "rule") if rule else ("investigate", "model")
