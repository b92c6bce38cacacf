"""aiops-workbench: cut alert noise without missing incidents.

The public API, re-exported for notebooks: ``import workbench as wb``.
"""

from workbench.config import CANONICAL_METRICS, Config, ConfigError, find_root, load_config
from workbench.describe import metric_summary, range_summary
from workbench.features import find_gaps, regular_grid, to_windows
from workbench.frames import DataError, to_wide, validate_long
from workbench.incidents import in_range, load_labels, read_events, read_incidents
from workbench.capacity import backtest_services, backtest_table, plan_capacity, usage_series
from workbench.forecast import backtest_summary, forecast_series
from workbench.evaluate import comparison_table, headline_figures, missed_table
from workbench.hybrid import run_systems
from workbench.plots import alerts_timeline, backtest_chart, forecast_panel, correlation_heatmap, hour_weekday_heatmaps, metrics_timeline, score_histogram, shap_bars
from workbench.registry import list_versions, load_model, save_model
from workbench.training import describe_model, score_windows, train_latest, training_windows
from workbench.widgets import labelling
from workbench.headline import show_headline
from workbench.sources import load_metrics, load_service

__version__ = "0.1.0"

__all__ = [
    "alerts_timeline",
    "backtest_chart",
    "backtest_services",
    "backtest_summary",
    "backtest_table",
    "forecast_panel",
    "forecast_series",
    "plan_capacity",
    "usage_series",
    "labelling",
    "comparison_table",
    "describe_model",
    "headline_figures",
    "list_versions",
    "load_model",
    "missed_table",
    "run_systems",
    "save_model",
    "score_histogram",
    "score_windows",
    "shap_bars",
    "train_latest",
    "training_windows",
    "CANONICAL_METRICS",
    "Config",
    "ConfigError",
    "DataError",
    "correlation_heatmap",
    "find_gaps",
    "find_root",
    "hour_weekday_heatmaps",
    "in_range",
    "load_config",
    "load_labels",
    "load_metrics",
    "load_service",
    "metric_summary",
    "metrics_timeline",
    "range_summary",
    "read_events",
    "read_incidents",
    "regular_grid",
    "show_headline",
    "to_wide",
    "to_windows",
    "validate_long",
]
