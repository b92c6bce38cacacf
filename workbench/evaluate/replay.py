"""Replay the three alerting systems over a service's history: the old thresholds, the model,
the hybrid. Frames in, alerts out; :mod:`workbench.workflows.evaluate` loads the data.

For each service: 1-minute samples -> windows -> rolling model scores (each week
scored by a model trained on the weeks before it) and rule firings -> window
verdicts -> grouped alerts. The evaluated period starts when the first model
verdict exists, and is the same for all three systems.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.alerting.policy import window_verdicts
from workbench.alerting.postprocess import group_alerts
from workbench.config import Config
from workbench.contracts import AlertSource
from workbench.detect.base import model_verdicts
from workbench.detect.explain import Explainer, format_top
from workbench.detect.rules import RuleSet
from workbench.features.context import context_flags
from workbench.features.service import FEATURE_CONTEXT
from workbench.features.windows import to_windows
from workbench.lifecycle.training import ServiceModel, model_matrix, score_rolling

__all__ = ["Evaluation", "ServiceRun", "explain_alerts", "hybrid_alerts", "route_hybrid", "run_and_explain", "run_service"]


@dataclass
class ServiceRun:
    """Everything computed for one service, kept for plots and explanations."""

    service: str
    samples: pd.DataFrame
    windows: pd.DataFrame
    events: pd.DataFrame
    scores: pd.DataFrame
    models: list[ServiceModel]
    alerts: dict[str, pd.DataFrame]
    critical: pd.DataFrame = field(default_factory=pd.DataFrame)  # the critical rules' verdict frame
    planned: pd.Series = field(default_factory=pd.Series)  # True inside campaigns and maintenance
    shap: pd.DataFrame = field(default_factory=pd.DataFrame)

    def model_at(self, when: pd.Timestamp) -> ServiceModel | None:
        """The model that scored the window starting at ``when``."""
        active = [m for m in self.models if m.trained_to <= when]
        return active[-1] if active else None


@dataclass
class Evaluation:
    runs: dict[str, ServiceRun]
    alerts: dict[str, pd.DataFrame]
    incidents: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp  # exclusive: the end of the last window
    results: dict = field(default_factory=dict)

    @property
    def last(self) -> pd.Timestamp:
        """The last moment the replay covers (``end`` is exclusive), for "from ... to ..." words."""
        return self.end - pd.Timedelta("1ns")


def run_service(config: Config, service: str, samples: pd.DataFrame, incidents: pd.DataFrame, events: pd.DataFrame) -> ServiceRun:
    """Scores, rule firings and the alerts of all three systems for one service."""
    events = events[events["service"].isin([service, "*"])]
    windows = to_windows(samples, config.window, config.max_fill)
    scores, models = score_rolling(service, windows, incidents, events, config.model)
    flags = context_flags(windows.index, events, config.window)
    planned = (flags["campaign"] == 1) | (flags["maintenance"] == 1)
    baseline_rules = RuleSet.from_config(config.rules.baseline).fit().verdicts(samples, config.window)
    critical_rules = RuleSet.from_config(config.rules.critical).fit().verdicts(samples, config.window)
    run = ServiceRun(service, samples, windows, events, scores, models, {}, critical_rules, planned)
    baseline = window_verdicts(windows.index, config.window, [baseline_rules])
    run.alerts = {
        "baseline": group_alerts(service, baseline, config.routing),
        "model": route_hybrid(run, config, rules=False),
        "hybrid": route_hybrid(run, config),
    }
    return run


def route_hybrid(run: ServiceRun, config: Config, investigate_confidence: float | None = None, rules: bool = True) -> pd.DataFrame:
    """The hybrid's alerts for a scored service (``rules=False``: the model alone).

    Routing only, from the stored scores and rule firings, so another investigate
    threshold costs milliseconds, not a retraining.
    """
    threshold = config.routing.investigate_confidence if investigate_confidence is None else investigate_confidence
    return hybrid_alerts(run.service, run.scores["confidence"], run.critical if rules else None, run.planned, config, threshold)


def hybrid_alerts(
    service: str,
    confidence: pd.Series,
    critical: pd.DataFrame | None,
    planned: pd.Series,
    config: Config,
    investigate_confidence: float | None = None,
) -> pd.DataFrame:
    """The hybrid's grouped alerts from a model's per-window ``confidence`` (0-100, NaN = no verdict)
    and the critical rules' verdict frame (``None``: the model alone), routed by ``config.routing``.
    """
    threshold = config.routing.investigate_confidence if investigate_confidence is None else investigate_confidence
    sources = [model_verdicts(confidence, config.window, threshold)]
    if critical is not None:
        sources.append(critical)
    verdicts = window_verdicts(confidence.index, config.window, sources, planned)
    return group_alerts(service, verdicts, config.routing)


def explain_alerts(run: ServiceRun, alerts: pd.DataFrame, k: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SHAP explanations for the alerts the model took part in (at its most anomalous window).

    Returns new data and changes nothing it is given: ``alerts`` with ``top_features``
    filled, and the SHAP values of each explained alert (one row per alert id, one
    column per feature; positive = pushed the window towards abnormal).
    """
    alerts = alerts.copy()
    explainers: dict[int, Explainer] = {}
    shap_rows = {}
    for i, alert in alerts.iterrows():
        if alert["source"] == AlertSource.RULE:
            continue
        span = run.scores.loc[alert["start"] : alert["end"] - pd.Timedelta("1ns"), "confidence"].dropna()
        if span.empty:
            continue
        worst = span.idxmax()
        model = run.model_at(worst)
        if model is None:
            continue
        context = run.windows.loc[worst - FEATURE_CONTEXT : worst]
        X = model_matrix(model.features.transform(context, events=run.events)).loc[[worst]]
        explainer = explainers.setdefault(id(model), Explainer(model.detector, list(X.columns)))
        alerts.at[i, "top_features"] = format_top(explainer.top(X, k)[0], when=worst)
        shap_rows[alert["id"]] = pd.Series(explainer.shap_values(X)[0], index=X.columns)
    return alerts, pd.DataFrame(shap_rows).T


def run_and_explain(config, service, samples, incidents, events, explain: bool) -> ServiceRun:
    """:func:`run_service`, then SHAP top features for the model's and the hybrid's alerts if ``explain``."""
    run = run_service(config, service, samples, incidents, events)
    if explain:
        # The hybrid's and the model's alerts share windows; the baseline has no model.
        explained, shap = {}, [run.shap]
        for name, frame in run.alerts.items():
            if name == "baseline":
                explained[name] = frame
                continue
            explained[name], values = explain_alerts(run, frame)
            shap.append(values)
        run.alerts = explained
        shap = pd.concat([s for s in shap if not s.empty]) if any(not s.empty for s in shap) else run.shap
        run.shap = shap[~shap.index.duplicated()]
    return run
