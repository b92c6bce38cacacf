"""Where the metrics come from and where they are kept: the sample, files, Prometheus, the store, the project paths."""

from __future__ import annotations

import re
import string
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pandas as pd
from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
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


# The query sets ``source.prometheus.query_set`` chooses from. In a template ``$label`` becomes
# the label that names a service (``source.prometheus.service_label``) and ``$service`` its
# value; every query must return one series per service. Requests, errors and latency come
# from the client-library HTTP metrics in every set (exporters have none).
#
# CPU and memory are percentages of what is provisioned, in every set: the capacity plan
# turns ``cpu_usage`` into vCPUs as ``percent / 100 * provisioned`` (``capacity.services``),
# so a query against one core, or against a node's cores the service does not own, would
# mis-size the plan. The limits must be set: a container without a CPU or memory limit
# has no quota and a zero memory limit, and leaves the percentage too high.
_HTTP_QUERIES = {
    "request_rate": 'sum(rate(http_requests_total{$label="$service"}[5m]))',
    "error_rate": (
        '100 * sum(rate(http_requests_total{$label="$service",code=~"5.."}[5m]))'
        ' / sum(rate(http_requests_total{$label="$service"}[5m]))'
    ),
    "latency_p95": '1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{$label="$service"}[5m])))',
    "latency_p99": '1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{$label="$service"}[5m])))',
}
# cAdvisor's series of real containers: ``container=""`` is the pod's own cgroup (its
# usage again, summed) and ``POD`` the pause container.
_CONTAINERS = '$label="$service",container!="",container!="POD"'
#: The CPU limit in cores: cAdvisor exports the CFS quota and period, not their ratio.
_CPU_LIMIT = f"sum(container_spec_cpu_quota{{{_CONTAINERS}}} / container_spec_cpu_period{{{_CONTAINERS}}})"
_MEMORY = f"100 * sum(container_memory_working_set_bytes{{{_CONTAINERS}}}) / sum(container_spec_memory_limit_bytes{{{_CONTAINERS}}})"

QUERY_SETS: dict[str, dict[str, str]] = {
    # The service's own client-library metrics (process CPU, HTTP) over its containers'
    # limits from cAdvisor, as Kubernetes scrapes both.
    "http_client": {
        **_HTTP_QUERIES,
        "cpu_usage": f'100 * sum(rate(process_cpu_seconds_total{{$label="$service"}}[5m])) / {_CPU_LIMIT}',
        "memory_usage": _MEMORY,
    },
    # Containers as cAdvisor (the kubelet's /metrics/cadvisor) sees them: CPU as percent of
    # the CPU limit (quota / period), memory (working set) as percent of the memory limit.
    "cadvisor": {
        **_HTTP_QUERIES,
        "cpu_usage": f"100 * sum(rate(container_cpu_usage_seconds_total{{{_CONTAINERS}}}[5m])) / {_CPU_LIMIT}",
        "memory_usage": _MEMORY,
    },
    # Hosts that belong to the service (node_exporter): CPU busy as percent of all their
    # cores, memory used (total less available) as percent of their memory.
    "node_exporter": {
        **_HTTP_QUERIES,
        "cpu_usage": '100 * (1 - avg(rate(node_cpu_seconds_total{$label="$service",mode="idle"}[5m])))',
        "memory_usage": '100 * (1 - sum(node_memory_MemAvailable_bytes{$label="$service"}) / sum(node_memory_MemTotal_bytes{$label="$service"}))',
    },
}
#: The default query set (``http_client``).
DEFAULT_QUERIES: dict[str, str] = QUERY_SETS["http_client"]

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


#: What a Prometheus label name may be.
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _label_name(value: str) -> str:
    if not LABEL_NAME.fullmatch(value):
        raise ValueError(f"not a Prometheus label name (letters, digits and '_', not first a digit): {value!r}")
    return value


def _template_ok(metric: str, query: str) -> None:
    if "$service" not in query and "${service}" not in query:
        raise ValueError(f"the query for {metric} must contain $service: {query!r}")
    try:
        string.Template(query).substitute(label="l", service="s")
    except (KeyError, ValueError) as exc:
        raise ValueError(f"the query for {metric} may use only $label and $service (write $$ for a literal $): {query!r}") from exc


class PrometheusSettings(Strict):
    """Where and how to pull from Prometheus (``workbench.sources.prometheus``).

    The PromQL per metric is :attr:`templates`: the ``query_set``'s queries
    (:data:`QUERY_SETS`) with ``queries`` merged over them. In every set ``cpu_usage`` and
    ``memory_usage`` are percent of what is provisioned (the CPU and memory limits, or
    the hosts' cores and memory), as the capacity plan reads them.
    """

    url: Annotated[str, AfterValidator(_url_without_credentials)] = "http://127.0.0.1:9090"
    step: PositiveDuration = "60s"
    lookback: PositiveDuration = "30D"
    timeout: PositiveDuration = "30s"
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff: Annotated[float, Field(ge=0, le=60)] = 0.5
    parallel: Annotated[int, Field(ge=1, le=32)] = 4
    # Prometheus refuses a range query with more than 11,000 points per series.
    max_points: Annotated[int, Field(ge=2, le=11000)] = 10000
    #: The documented queries to start from (:data:`QUERY_SETS`).
    query_set: Literal["http_client", "cadvisor", "node_exporter"] = "http_client"
    #: The label whose value is the service name (``$label`` in the queries).
    service_label: Annotated[str, AfterValidator(_label_name)] = "service"
    #: PromQL per metric over the set's (a partial mapping merges); ``null`` leaves a metric out.
    queries: dict[str, str | None] = Field(default_factory=dict)

    @field_validator("queries")
    @classmethod
    def _queries(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        unknown = sorted(set(value) - set(CANONICAL_METRICS))
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; expected some of {list(CANONICAL_METRICS)}")
        for metric, query in value.items():
            if query is not None:
                _template_ok(metric, query)
        return value

    @model_validator(mode="after")
    def _some_query(self) -> PrometheusSettings:
        if not self.templates:
            raise ValueError("at least one metric needs a query (source.prometheus.queries leaves out every metric)")
        return self

    @property
    def templates(self) -> dict[str, str]:
        """PromQL template per metric: the query set's, overridden by ``queries``."""
        merged = {**QUERY_SETS[self.query_set], **self.queries}
        return {metric: query for metric, query in merged.items() if query is not None}


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
