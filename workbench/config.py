"""Project paths and the typed, validated ``workbench.yaml``.

Everything that names a file or a setting comes from here, so notebooks never
hold machine paths. A bad key or value raises :class:`ConfigError` whose
message names the key (``rules.baseline[2].op``) and what was wrong with it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pandas as pd
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "CANONICAL_METRICS",
    "CAPACITY_RESOURCES",
    "DEFAULT_QUERIES",
    "POSTGRES_DSN_ENV",
    "PROMETHEUS_ENV",
    "METRIC_UNITS",
    "Config",
    "ConfigError",
    "Rule",
    "find_root",
    "load_config",
    "parse_window",
]

#: The metric names every source maps onto (DESIGN.md, "Data contracts").
CANONICAL_METRICS: tuple[str, ...] = (
    "request_rate",
    "error_rate",
    "latency_p95",
    "latency_p99",
    "cpu_usage",
    "memory_usage",
)

METRIC_UNITS: dict[str, str] = {
    "request_rate": "req/s",
    "error_rate": "%",
    "latency_p95": "ms",
    "latency_p99": "ms",
    "cpu_usage": "%",
    "memory_usage": "%",
}

CONFIG_ENV = "WORKBENCH_CONFIG"
ROOT_ENV = "WORKBENCH_ROOT"


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message names the key."""


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
    op: Literal[">", "<", "drop_pct"]
    threshold: float
    for_: Duration = Field(default="0min", alias="for")
    action: Literal["page", "investigate"] = "page"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _threshold_makes_sense(self) -> Rule:
        if self.op == "drop_pct" and not 0 < self.threshold < 100:
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
    kind: Literal["sample", "files", "prometheus", "parquet", "postgres"] = "sample"
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


class StoreSettings(_Strict):
    """Where pulled metrics are kept (``workbench.store``)."""

    kind: Literal["parquet", "postgres"] = "parquet"
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
    """The per-service Isolation Forest and how it is retrained (see ``workbench.detectors``)."""

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


#: The resources a capacity plan covers; CPU and memory are percentages of what is provisioned.
CAPACITY_RESOURCES: tuple[str, ...] = ("cpu_usage", "memory_usage", "request_rate")


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
    """Capacity forecasting (``workbench.forecast``, ``workbench.capacity``)."""

    horizon: Annotated[str, AfterValidator(_positive_duration)] = "14D"
    resolution: Window = "1h"
    method: Literal["profile", "mstl", "seasonal_naive", "median4"] = "profile"
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


class Config(_Strict):
    """The validated contents of ``workbench.yaml`` plus the project root."""

    services: Annotated[list[str], Field(min_length=1)]
    window: Window = "15min"
    max_fill: Duration = "5min"
    source: Source = Field(default_factory=Source)
    store: StoreSettings = Field(default_factory=StoreSettings)
    paths: Paths = Field(default_factory=Paths)
    rules: Rules = Field(default_factory=Rules)
    model: ModelSettings = Field(default_factory=ModelSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    capacity: CapacitySettings = Field(default_factory=CapacitySettings)
    root: Path = Field(default=Path("."), exclude=True)

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str]) -> list[str]:
        dupes = sorted({s for s in value if value.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate services {dupes}")
        bad = [s for s in value if not s or not s.replace("-", "").replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"service names must be letters, digits, '-' or '_': {bad}")
        return value

    @model_validator(mode="after")
    def _capacity_services_known(self) -> Config:
        unknown = sorted(set(self.capacity.services) - set(self.services))
        if unknown:
            raise ValueError(f"capacity.services names unknown services {unknown}; configured: {self.services}")
        return self

    def path(self, name: str) -> Path:
        """Absolute path of a configured path (``data``, ``reports``, ``incidents`` ...)."""
        return (self.root / getattr(self.paths, name)).resolve()

    def check_service(self, service: str) -> str:
        """Return ``service`` if configured, else raise :class:`ConfigError` listing the choices."""
        if service not in self.services:
            raise ConfigError(f"unknown service {service!r}; configured services: {', '.join(self.services)}")
        return service


def find_root(start: Path | None = None) -> Path:
    """The project root: ``$WORKBENCH_ROOT``, else the nearest folder holding ``workbench.yaml``.

    Searching upward lets notebooks (run from ``notebooks/``) and the CLI (run from
    anywhere inside the project) agree on one root without naming a path.
    """
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "workbench.yaml").is_file():
            return folder
    raise ConfigError(f"no workbench.yaml found in {here} or any parent; set {ROOT_ENV} or run inside the project")


def _format_errors(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"]).replace(".[", "[")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif isinstance(err.get("input"), (str, int, float, bool)) and repr(err["input"]) not in msg:
            msg += f" (got {err['input']!r})"
        lines.append(f"  {key or '(top level)'}: {msg}")
    return "\n".join(lines)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate ``workbench.yaml``.

    Parameters
    ----------
    path
        The file; default ``$WORKBENCH_CONFIG``, else ``workbench.yaml`` in the project
        root. A relative path is taken from the project root, so the same value works
        from the CLI and from a notebook.

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or holds an unknown key or a bad value.
    """
    if path is None or str(path) == "":
        path = os.environ.get(CONFIG_ENV) or "workbench.yaml"
    path = Path(path)
    if not path.is_absolute():
        path = find_root() / path
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    if "root" in raw:
        raise ConfigError(f"{path}: root: unknown key (the root is the config file's folder)")
    try:
        return Config(**raw, root=path.parent.resolve())
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from None
