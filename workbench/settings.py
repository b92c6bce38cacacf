"""The typed sections of ``workbench.yaml``, one model per stage (sources, store, rules,
model, routing, capacity), and the duration and window types they share.

Every model forbids unknown keys: a typo must be an error, never a silent default.
:mod:`workbench.config` assembles them into :class:`~workbench.config.Config`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from workbench._registry import FORECASTERS, SINKS, SOURCES, STORES
from workbench.contracts import (
    CANONICAL_METRICS,
    CAPACITY_RESOURCES,
    RULE_ACTIONS,
    AlertAction,
    RuleOp,
)

__all__ = [
    "AlertingSettings",
    "CapacitySettings",
    "SinkSettings",
    "DEFAULT_QUERIES",
    "Duration",
    "ModelSettings",
    "POSTGRES_DSN_ENV",
    "PROMETHEUS_ENV",
    "Paths",
    "PrometheusSettings",
    "ResourceCapacity",
    "RoutingSettings",
    "Rule",
    "Rules",
    "Source",
    "StoreSettings",
    "Window",
    "parse_window",
    "postgres_dsn",
]


class _Strict(BaseModel):
    # Unknown keys are errors: a typo must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_window(value: str) -> str:
    """Check a window width such as ``15min``: at least a minute, dividing a day evenly.

    Returns the value unchanged; raises ``ValueError`` naming the bad value.
    """
    try:
        delta = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a duration like '15min' or '1h': {value!r}") from exc
    if delta < pd.Timedelta("1min"):
        raise ValueError(f"must be at least 1min, got {value!r}")
    if pd.Timedelta("1D") % delta != pd.Timedelta(0):
        raise ValueError(f"must divide a day evenly (e.g. 5min, 15min, 1h), got {value!r}")
    return value


def _duration(value: str) -> str:
    try:
        delta = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a duration like '5min': {value!r}") from exc
    if delta < pd.Timedelta(0):
        raise ValueError(f"must not be negative, got {value!r}")
    return value


#: A non-negative duration such as ``5min``.
Duration = Annotated[str, AfterValidator(_duration)]
#: A window width: at least a minute, dividing a day evenly.
Window = Annotated[str, AfterValidator(parse_window)]


class Rule(_Strict):
    """One static alert rule.

    ``op`` is ``">"`` or ``"<"`` against ``threshold`` in the metric's unit, or
    ``"drop_pct"``: the metric fell by more than ``threshold`` percent against
    the same window one week earlier. The condition must hold for ``for_``
    (Prometheus' ``for:``) before the rule fires.
    """

    name: str
    metric: Literal[CANONICAL_METRICS]  # type: ignore[valid-type]
    op: RuleOp
    threshold: float
    for_: Duration = Field(default="0min", alias="for")
    action: AlertAction = AlertAction.PAGE

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _threshold_makes_sense(self) -> Rule:
        if self.action not in RULE_ACTIONS:
            raise ValueError(f"a rule's action is {' or '.join(RULE_ACTIONS)}, got {self.action.value!r}")
        if self.op == RuleOp.DROP_PCT and not 0 < self.threshold < 100:
            raise ValueError(f"drop_pct threshold is a percentage in (0, 100), got {self.threshold}")
        return self


class Rules(_Strict):
    critical: list[Rule] = Field(default_factory=list)
    baseline: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Rules:
        for group in ("critical", "baseline"):
            names = [r.name for r in getattr(self, group)]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{group}: duplicate rule names {dupes}")
        return self


class SampleSettings(_Strict):
    seed: int = 7
    start: str = "2026-09-01"
    days: Annotated[int, Field(ge=14, le=366)] = 60
    frequency: Window = "1min"

    @field_validator("start")
    @classmethod
    def _start_is_date(cls, value: str) -> str:
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a date: {value!r}") from exc
        return value


class FilesSettings(_Strict):
    path: str = "data/metrics.parquet"


#: PromQL per canonical metric for a service exposing the usual client-library metrics.
#: ``$service`` is replaced by the service name; every query must return one series.
DEFAULT_QUERIES: dict[str, str] = {
    "request_rate": 'sum(rate(http_requests_total{service="$service"}[5m]))',
    "error_rate": (
        '100 * sum(rate(http_requests_total{service="$service",code=~"5.."}[5m]))'
        ' / sum(rate(http_requests_total{service="$service"}[5m]))'
    ),
    "latency_p95": '1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="$service"}[5m])))',
    "latency_p99": '1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="$service"}[5m])))',
    "cpu_usage": '100 * avg(rate(process_cpu_seconds_total{service="$service"}[5m]))',
    "memory_usage": (
        '100 * sum(container_memory_working_set_bytes{service="$service"})'
        ' / sum(container_spec_memory_limit_bytes{service="$service"})'
    ),
}

#: Environment variables the Prometheus source reads its credentials from. Credentials
#: never live in workbench.yaml or in notebook parameters (papermill writes those into
#: the executed notebook).
PROMETHEUS_ENV = {
    "url": "WORKBENCH_PROMETHEUS_URL",
    "token": "WORKBENCH_PROMETHEUS_TOKEN",
    "user": "WORKBENCH_PROMETHEUS_USER",
    "password": "WORKBENCH_PROMETHEUS_PASSWORD",
    "ca": "WORKBENCH_PROMETHEUS_CA",
}
#: A full libpq connection string for the PostgreSQL store, password included if any.
POSTGRES_DSN_ENV = "WORKBENCH_POSTGRES_DSN"


def _url_without_credentials(value: str) -> str:
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    if parsed.username or parsed.password:
        raise ValueError(
            f"credentials do not belong in workbench.yaml; set {PROMETHEUS_ENV['user']} and "
            f"{PROMETHEUS_ENV['password']} (or {PROMETHEUS_ENV['token']}) in the environment"
        )
    return value.rstrip("/")


def _positive_duration(value: str) -> str:
    _duration(value)
    if pd.Timedelta(value) <= pd.Timedelta(0):
        raise ValueError(f"must be positive, got {value!r}")
    return value


class PrometheusSettings(_Strict):
    """Where and how to pull from Prometheus (``workbench.sources.prometheus``)."""

    url: Annotated[str, AfterValidator(_url_without_credentials)] = "http://127.0.0.1:9090"
    step: Annotated[str, AfterValidator(_positive_duration)] = "60s"
    lookback: Annotated[str, AfterValidator(_positive_duration)] = "30D"
    timeout: Annotated[str, AfterValidator(_positive_duration)] = "30s"
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff: Annotated[float, Field(ge=0, le=60)] = 0.5
    parallel: Annotated[int, Field(ge=1, le=32)] = 4
    # Prometheus refuses a range query with more than 11,000 points per series.
    max_points: Annotated[int, Field(ge=2, le=11000)] = 10000
    queries: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_QUERIES))

    @field_validator("queries")
    @classmethod
    def _queries(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CANONICAL_METRICS))
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; expected some of {list(CANONICAL_METRICS)}")
        if not value:
            raise ValueError("at least one metric needs a query")
        for metric, query in value.items():
            if "$service" not in query and "${service}" not in query:
                raise ValueError(f"the query for {metric} must contain $service: {query!r}")
        return value


class Source(_Strict):
    kind: Annotated[str, AfterValidator(SOURCES.check)] = "sample"
    sample: SampleSettings = Field(default_factory=SampleSettings)
    files: FilesSettings = Field(default_factory=FilesSettings)
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)


def _identifier(value: str) -> str:
    if not value or not (value[0].isalpha() or value[0] == "_") or not value.replace("_", "").isalnum() or len(value) > 63:
        raise ValueError(f"a table name is letters, digits and '_' (at most 63), got {value!r}")
    return value


def _dsn_without_password(value: str) -> str:
    if "password" in value.lower() or re.search(r"://[^/@]*:[^/@]*@", value):
        raise ValueError(f"no password in workbench.yaml: use PGPASSWORD, ~/.pgpass or {POSTGRES_DSN_ENV}")
    return value


class ParquetStoreSettings(_Strict):
    path: str = "data/store"


class PostgresSettings(_Strict):
    # libpq keywords or a URI, without a password (PGPASSWORD, ~/.pgpass or the
    # WORKBENCH_POSTGRES_DSN environment variable carry that).
    dsn: Annotated[str, AfterValidator(_dsn_without_password)] = "host=127.0.0.1 port=5432 dbname=workbench"
    table: Annotated[str, AfterValidator(_identifier)] = "workbench_metrics"


def postgres_dsn(settings: PostgresSettings) -> str:
    """``$WORKBENCH_POSTGRES_DSN`` when set (it may carry a password), else ``settings.dsn`` (which may not)."""
    import os

    return os.environ.get(POSTGRES_DSN_ENV) or settings.dsn


class StoreSettings(_Strict):
    """Where pulled metrics are kept (``workbench.store``)."""

    kind: Annotated[str, AfterValidator(STORES.check)] = "parquet"
    parquet: ParquetStoreSettings = Field(default_factory=ParquetStoreSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)


class Paths(_Strict):
    data: str = "data"
    reports: str = "reports"
    models: str = "models"
    notebooks: str = "notebooks"
    incidents: str = "data/incidents.csv"
    events: str = "data/events.csv"


class ModelSettings(_Strict):
    """The per-service Isolation Forest and how it is retrained (see ``workbench.detect.forest`` and ``workbench.lifecycle.training``)."""

    n_estimators: Annotated[int, Field(ge=10, le=2000)] = 100
    alarm_confidence: Annotated[float, Field(gt=0, lt=100)] = 75.0
    confidence_period: Duration = "7D"
    train_span: Duration = "28D"
    min_train: Duration = "14D"
    retrain_every: Duration = "7D"
    incident_margin: Duration = "1h"
    random_state: int = 0


class RoutingSettings(_Strict):
    """The hybrid policy: rule alone pages, model alone asks for investigation, both page with context."""

    investigate_confidence: Annotated[float, Field(gt=0, lt=100)] = 75.0
    min_windows: Annotated[int, Field(ge=1, le=96)] = 1
    group_gap: Duration = "15min"
    suppress: Duration = "1h"


class SinkSettings(BaseModel):
    """One alert sink: a registered ``kind`` plus that sink's own settings, which the sink
    checks itself. Credentials never go here: sinks read them from the environment."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: Annotated[str, AfterValidator(SINKS.check)]
    #: Unique in the list; the outbox tracks delivery per name. Default: the kind.
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.kind

    def options(self) -> dict:
        """The sink-specific settings (everything but ``kind`` and ``name``)."""
        return dict(self.model_extra or {})


class AlertingSettings(_Strict):
    """The live loop (``workbench score``): alert state, episodes and where alerts go."""

    #: SQLite file for scored windows, episodes and the outbox (relative to the project root).
    state: str = "data/alerts/state.sqlite"
    #: An episode resolves after this many normal windows in a row.
    resolve_after: Annotated[int, Field(ge=1, le=96)] = 4
    #: Deliver a trigger whose episode already resolved before the sink could take it?
    #: Default no: a problem that came and went during a sink outage is recorded, not paged late.
    late_pages: bool = False
    #: Delivery attempts before a retryable failure goes to the dead letters.
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 12
    #: First retry delay in seconds; doubles per attempt, with full jitter, up to ``max_backoff``.
    backoff: Annotated[float, Field(ge=0, le=60)] = 1.0
    max_backoff: Annotated[float, Field(ge=0, le=3600)] = 300.0
    sinks: list[SinkSettings] = Field(default_factory=lambda: [SinkSettings(kind="file")])

    @field_validator("sinks")
    @classmethod
    def _unique_sink_names(cls, value: list[SinkSettings]) -> list[SinkSettings]:
        labels = [s.label for s in value]
        dupes = sorted({n for n in labels if labels.count(n) > 1})
        if dupes:
            raise ValueError(f"sink names must be unique (give each a name): {dupes}")
        return value


class ResourceCapacity(_Strict):
    """What one service has provisioned of one resource, and what a unit costs.

    For ``cpu_usage`` and ``memory_usage`` (percentages of what is provisioned) the
    usage in units is ``percent / 100 * provisioned``. For ``request_rate`` a unit (a
    replica, say) serves ``per_unit`` requests per second.
    """

    provisioned: Annotated[float, Field(gt=0)]
    unit: str = "units"
    unit_cost: Annotated[float, Field(ge=0)]  # per unit per month
    per_unit: Annotated[float, Field(gt=0)] | None = None
    granularity: Annotated[float, Field(gt=0)] = 1.0  # recommendations are whole multiples of this


class CapacitySettings(_Strict):
    """Capacity forecasting (``workbench.forecast.outlook``, ``workbench.forecast.capacity``)."""

    horizon: Annotated[str, AfterValidator(_positive_duration)] = "14D"
    resolution: Window = "1h"
    method: Annotated[str, AfterValidator(FORECASTERS.check)] = "profile"
    interval: Annotated[float, Field(gt=0.5, lt=1)] = 0.9
    target_utilisation: Annotated[float, Field(gt=0, le=100)] = 80.0
    currency: str = "$"
    backtest_initial: Annotated[str, AfterValidator(_positive_duration)] = "28D"
    backtest_every: Annotated[str, AfterValidator(_positive_duration)] = "84h"
    services: dict[str, dict[Literal[CAPACITY_RESOURCES], ResourceCapacity]] = Field(default_factory=dict)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _request_rate_needs_per_unit(self) -> CapacitySettings:
        for service, resources in self.services.items():
            rate = resources.get("request_rate")
            if rate is not None and rate.per_unit is None:
                raise ValueError(f"services.{service}.request_rate needs per_unit (requests per second one {rate.unit} serves)")
        return self
