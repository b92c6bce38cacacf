"""Where the metrics come from and where they are kept: the sample, files, Prometheus, the store, the project paths."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pandas as pd
from pydantic import (
    AfterValidator,
    Field,
    field_validator,
)

from workbench._registry import SOURCES, STORES
from workbench.contracts import (
    CANONICAL_METRICS,
)
from workbench.settings.types import (
    PositiveDuration,
    Strict,
    Window,
    duration,
)


class SampleSettings(Strict):
    seed: int = 7
    start: str = "2026-09-01"
    days: Annotated[int, Field(ge=14, le=366)] = 60
    frequency: Window = "1min"
    #: One or two services change for good in the second half (a migration), as real infrastructure does.
    drift: bool = True

    @field_validator("start")
    @classmethod
    def _start_is_date(cls, value: str) -> str:
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a date: {value!r}") from exc
        return value


class FileColumns(Strict):
    """The file's column names for the long-form fields (``metric`` and ``value``: long form only)."""

    timestamp: str = "timestamp"
    service: str = "service"
    metric: str = "metric"
    value: str = "value"


class FilesSettings(Strict):
    path: str = "data/metrics.parquet"
    #: The IANA time zone of timestamps written without an offset (e.g. ``Europe/Berlin``);
    #: default: such timestamps are UTC. Local times across a daylight-saving change need it.
    timezone: str | None = None
    #: ``long``: one row per timestamp, service, metric and value; ``wide``: one row per
    #: timestamp and service, one column per metric.
    form: Literal["long", "wide"] = "long"
    columns: FileColumns = Field(default_factory=FileColumns)
    #: The file's metric names (long: values of the metric column; wide: column names) for
    #: the canonical ones, e.g. ``{p95_ms: latency_p95, cpu_pct: cpu_usage}``; canonical
    #: names need no entry. Other metrics in the file are left out, with a note.
    metrics: dict[str, str] = Field(default_factory=dict)

    @field_validator("metrics")
    @classmethod
    def _canonical_targets(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted({v for v in value.values() if v not in CANONICAL_METRICS})
        if bad:
            raise ValueError(f"maps to unknown metrics {bad}; the canonical metrics are {list(CANONICAL_METRICS)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin or America/New_York") from exc
        return value


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


def positiveduration(value: str) -> str:
    duration(value)
    if pd.Timedelta(value) <= pd.Timedelta(0):
        raise ValueError(f"must be positive, got {value!r}")
    return value


class PrometheusSettings(Strict):
    """Where and how to pull from Prometheus (``workbench.sources.prometheus``)."""

    url: Annotated[str, AfterValidator(_url_without_credentials)] = "http://127.0.0.1:9090"
    step: PositiveDuration = "60s"
    lookback: PositiveDuration = "30D"
    timeout: PositiveDuration = "30s"
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


class Source(Strict):
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


class ParquetStoreSettings(Strict):
    path: str = "data/store"


class PostgresSettings(Strict):
    # libpq keywords or a URI, without a password (PGPASSWORD, ~/.pgpass or the
    # WORKBENCH_POSTGRES_DSN environment variable carry that).
    dsn: Annotated[str, AfterValidator(_dsn_without_password)] = "host=127.0.0.1 port=5432 dbname=workbench"
    table: Annotated[str, AfterValidator(_identifier)] = "workbench_metrics"


def postgres_dsn(settings: PostgresSettings) -> str:
    """``$WORKBENCH_POSTGRES_DSN`` when set (it may carry a password), else ``settings.dsn`` (which may not)."""
    import os

    return os.environ.get(POSTGRES_DSN_ENV) or settings.dsn


class StoreSettings(Strict):
    """Where pulled metrics are kept (``workbench.store``)."""

    kind: Annotated[str, AfterValidator(STORES.check)] = "parquet"
    parquet: ParquetStoreSettings = Field(default_factory=ParquetStoreSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)


class Paths(Strict):
    data: str = "data"
    reports: str = "reports"
    models: str = "models"
    notebooks: str = "notebooks"
    incidents: str = "data/incidents.csv"
    events: str = "data/events.csv"
