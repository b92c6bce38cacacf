"""aiops-workbench: cut alert noise without missing incidents.

The notebook API, ``import workbench as wb``: every name in ``__all__`` is imported on
first use (PEP 562), so ``import workbench`` (and ``workbench --help``) loads no
matplotlib, scikit-learn, statsmodels, shap or ipywidgets. Where each name lives is
the table below; the stage packages mirror the data flow (README, "The package").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # configuration, contracts, errors
    "CANONICAL_METRICS": "workbench.contracts",
    "Config": "workbench.config",
    "ConfigError": "workbench.errors",
    "DataError": "workbench.errors",
    "WorkbenchError": "workbench.errors",
    "find_root": "workbench.config",
    "load_config": "workbench.config",
    "to_wide": "workbench.contracts",
    "validate_long": "workbench.contracts",
    # sources and labels
    "load_metrics": "workbench.sources",
    "load_service": "workbench.sources",
    "in_range": "workbench.labels.incidents",
    "load_labels": "workbench.labels.incidents",
    "read_events": "workbench.labels.incidents",
    "read_incidents": "workbench.labels.incidents",
    # features
    "find_gaps": "workbench.features.windows",
    "regular_grid": "workbench.features.windows",
    "to_windows": "workbench.features.windows",
    # models
    "describe_model": "workbench.lifecycle.training",
    "score_windows": "workbench.lifecycle.training",
    "train_latest": "workbench.lifecycle.training",
    "training_windows": "workbench.lifecycle.training",
    "list_versions": "workbench.lifecycle.versions",
    "load_model": "workbench.lifecycle.versions",
    "save_model": "workbench.lifecycle.versions",
    "aliases": "workbench.lifecycle.aliases",
    "history": "workbench.lifecycle.aliases",
    "load_champion": "workbench.lifecycle.aliases",
    # evaluation
    "comparison_table": "workbench.evaluate.events",
    "headline_figures": "workbench.evaluate.events",
    "missed_table": "workbench.evaluate.events",
    "business_figures": "workbench.evaluate.business",
    # forecasting
    "backtest_summary": "workbench.forecast.backtest",
    "forecast_series": "workbench.forecast.outlook",
    "backtest_table": "workbench.forecast.capacity",
    # workflows (the only layer that loads data)
    "run_systems": "workbench.workflows.evaluate",
    "replay_live": "workbench.workflows.live",
    "replay_lifecycle": "workbench.workflows.lifecycle",
    "retrain": "workbench.workflows.retrain",
    "drift_table": "workbench.workflows.drift",
    "sample_changes": "workbench.sources.scenarios",
    "labelling": "workbench.workflows.label",
    "backtest_services": "workbench.workflows.capacity",
    "plan_capacity": "workbench.workflows.capacity",
    "usage_series": "workbench.workflows.capacity",
    # after an incident
    "SimilarIncidents": "workbench.runbooks.similar",
    "review": "workbench.workflows.review",
    "incident_windows": "workbench.workflows.review",
    "moved_table": "workbench.present.review",
    "abstention_words": "workbench.present.review",
    "review_headline": "workbench.present.review",
    "review_scope": "workbench.present.review",
    "nothing_moved_words": "workbench.present.review",
    "review_timeline": "workbench.present.review",
    "review_if_any": "workbench.workflows.review",
    "similar_table": "workbench.present.review",
    "steps_table": "workbench.present.review",
    "signature_table": "workbench.runbooks.signature",
    "suggest_steps": "workbench.runbooks.suggest",
    # presentation
    "metric_summary": "workbench.present.summaries",
    "range_summary": "workbench.present.summaries",
    "event_table": "workbench.present.summaries",
    "gap_table": "workbench.present.summaries",
    "incident_table": "workbench.present.summaries",
    "model_summary": "workbench.present.summaries",
    "versions_table": "workbench.present.summaries",
    "show_headline": "workbench.present.headline",
    "Measure": "workbench.present.headline",
    "scope_words": "workbench.present.headline",
    "show_table": "workbench.present.tables",
    "SYSTEM_NAMES": "workbench.present.evaluation",
    "alert_table": "workbench.present.evaluation",
    "evaluation_measures": "workbench.present.evaluation",
    "service_table": "workbench.present.evaluation",
    "plain_table": "workbench.present.tables",
    "rarity": "workbench.present.words",
    "count": "workbench.present.words",
    "share": "workbench.present.words",
    "business_headline": "workbench.present.business",
    "business_measures": "workbench.present.business",
    "change_table": "workbench.present.business",
    "trend_table": "workbench.present.business",
    "pages_table": "workbench.present.business",
    "detect_table": "workbench.present.business",
    "resolve_table": "workbench.present.business",
    "business_trend": "workbench.present.business_plots",
    "alerts_timeline": "workbench.present.plots",
    "backtest_chart": "workbench.present.plots",
    "correlation_heatmap": "workbench.present.plots",
    "drift_timeline": "workbench.present.plots",
    "improvement_intervals": "workbench.present.plots",
    "forecast_panel": "workbench.present.plots",
    "hour_weekday_heatmaps": "workbench.present.plots",
    "metrics_timeline": "workbench.present.plots",
    "score_histogram": "workbench.present.plots",
    "shap_bars": "workbench.present.plots",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for editors and type checkers; never runs
    from workbench.config import Config, find_root, load_config  # noqa: F401
    from workbench.contracts import CANONICAL_METRICS, to_wide, validate_long  # noqa: F401
    from workbench.errors import ConfigError, DataError, WorkbenchError  # noqa: F401
