"""The typed sections of ``workbench.yaml``, one model per stage, and the duration and window types they share.

Every model forbids unknown keys: a typo must be an error, never a silent default.
:mod:`workbench.config` assembles them into :class:`~workbench.config.Config`.
"""

from workbench.settings.business import BusinessSettings
from workbench.settings.capacity import CapacitySettings, ResourceCapacity
from workbench.settings.data import (
    DEFAULT_QUERIES,
    POSTGRES_DSN_ENV,
    PROMETHEUS_ENV,
    FilesSettings,
    ParquetStoreSettings,
    Paths,
    PostgresSettings,
    PrometheusSettings,
    SampleSettings,
    Source,
    StoreSettings,
    postgres_dsn,
)
from workbench.settings.detection import ModelSettings, RoutingSettings, Rule, Rules
from workbench.settings.lifecycle import CostWeights, DriftSettings, LifecycleSettings
from workbench.settings.live import AlertingSettings, SinkSettings
from workbench.settings.report import ReportSettings
from workbench.settings.types import Duration, Window, parse_window

__all__ = [
    "DEFAULT_QUERIES",
    "POSTGRES_DSN_ENV",
    "PROMETHEUS_ENV",
    "AlertingSettings",
    "BusinessSettings",
    "CapacitySettings",
    "CostWeights",
    "DriftSettings",
    "Duration",
    "FilesSettings",
    "LifecycleSettings",
    "ModelSettings",
    "ParquetStoreSettings",
    "Paths",
    "PostgresSettings",
    "PrometheusSettings",
    "ReportSettings",
    "ResourceCapacity",
    "RoutingSettings",
    "Rule",
    "Rules",
    "SampleSettings",
    "SinkSettings",
    "Source",
    "StoreSettings",
    "Window",
    "parse_window",
    "postgres_dsn",
]
