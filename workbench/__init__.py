"""aiops-workbench: cut alert noise without missing incidents.

The public API, re-exported for notebooks: ``import workbench as wb``.
"""

from workbench.config import CANONICAL_METRICS, Config, ConfigError, find_root, load_config
from workbench.describe import metric_summary, range_summary
from workbench.features import find_gaps, regular_grid, to_windows
from workbench.frames import DataError, to_wide, validate_long
from workbench.incidents import in_range, load_labels, read_events, read_incidents
from workbench.plots import correlation_heatmap, hour_weekday_heatmaps, metrics_timeline
from workbench.headline import show_headline
from workbench.sources import load_metrics, load_service

__version__ = "0.1.0"

__all__ = [
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
