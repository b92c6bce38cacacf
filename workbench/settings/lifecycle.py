"""Keeping the model current (``workbench retrain``): the promotion rule, its cost weights, drift checks, pruning."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from workbench.settings.types import PositiveDuration, Strict

__all__ = ["CostWeights", "DriftSettings", "LifecycleSettings"]


class CostWeights(Strict):
    """What a replay's outcomes cost, in false-page equivalents (judgement values, not fitted)."""

    #: A labelled incident no alert overlapped.
    missed_incident: Annotated[float, Field(ge=0)] = 20.0
    #: An alert (a page or an investigation) that overlapped no incident.
    false_alert: Annotated[float, Field(ge=0)] = 1.0
    #: Each hour between an incident's start and its first alert.
    detection_hour: Annotated[float, Field(ge=0)] = 4.0
    #: Each hour an alert stays open outside any incident: an alert that never resolves is
    #: noise however it is counted (a day of it costs 6 false alerts).
    noise_hour: Annotated[float, Field(ge=0)] = 0.25


class DriftSettings(Strict):
    """Drift checks per service against the champion's training data (``workbench.lifecycle.drift``)."""

    #: Trailing span of scored windows each check looks at.
    span: PositiveDuration = "1D"
    #: Population-stability index per feature: warn, and act (retrain early).
    psi_warn: Annotated[float, Field(gt=0)] = 0.1
    psi_act: Annotated[float, Field(gt=0)] = 0.25
    #: Family-wise false-alarm level of one check (split over its features and tests).
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.001
    #: While drift keeps acting, retrain early at most this often (the challenger needs new data to learn from).
    cooldown: PositiveDuration = "2D"
    #: While drift acts, the challenger learns from this much history instead of ``model.train_span``,
    #: so a new normal outweighs the old one after a week, not after half of the usual span.
    train_span: PositiveDuration = "14D"


class LifecycleSettings(Strict):
    """Champion and challenger: when to retrain, how the two are compared, when the challenger wins.

    The challenger is trained like the evaluation's models (``model.train_span`` trailing,
    incidents plus ``model.incident_margin`` and planned events left out). The comparison
    replays the last ``compare_span``: the champion as it is, the challenger's recipe
    retrained every ``model.retrain_every`` on data before each week it scores, so every
    window is scored by models that never trained on it. Both see the same windows.
    """

    #: When ``workbench retrain --when-due`` retrains: every ``model.retrain_every`` (weekly),
    #: when drift acts (drift), either (weekly_or_drift), or never after the first model (frozen).
    policy: Literal["weekly_or_drift", "weekly", "drift", "frozen"] = "weekly_or_drift"
    compare_span: PositiveDuration = "14D"
    #: The challenger's cost must be at least this much lower (0.05 = 5 %) ...
    min_improvement: Annotated[float, Field(ge=0, lt=1)] = 0.05
    #: ... and the one-sided bootstrap bound at this level of the improvement above zero ...
    confidence: Annotated[float, Field(gt=0.5, lt=1)] = 0.95
    #: ... and its false-positive share at most this much higher (0.01 = one point) ...
    max_fp_rise: Annotated[float, Field(ge=0, lt=1)] = 0.01
    #: ... with at least this many labelled incidents in the compared span, else "not enough evidence".
    min_incidents: Annotated[int, Field(ge=0)] = 2
    bootstrap: Annotated[int, Field(ge=200, le=100_000)] = 2000
    cost: CostWeights = Field(default_factory=CostWeights)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    #: ``models prune`` never removes a version that held an alias within this span.
    protect: PositiveDuration = "30D"
