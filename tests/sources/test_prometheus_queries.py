"""The query sets, ``check_queries`` and ``discover_services`` against a real Prometheus.

The server holds an hour of what real exporters expose for two services, written so that
every canonical metric has a value worked out by hand: client-library HTTP counters and a
latency histogram, process CPU, cAdvisor's containers (with the pod cgroup, ``container=""``,
and the pause container, which the queries must leave out) and node_exporter's hosts. The
service is named by two labels, ``service`` and ``app``; ``team`` names nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import need

from workbench.errors import ConfigError
from workbench.settings import PrometheusSettings
from workbench.settings.data import QUERY_SETS
from workbench.sources.prometheus import (
    NoSeriesError,
    PrometheusClient,
    PrometheusError,
    Task,
    check_queries,
    discover_services,
)
from workbench.testing.prometheus import LocalPrometheus

T0 = pd.Timestamp("2026-06-01", tz="UTC")
SCRAPE = 15  # seconds
#: Per service, a factor on every rate (so that the services differ).
SERVICES = {"cart": 1.0, "search": 2.0}
#: Queried well inside the hour, so that every 5-minute rate window is full.
START, END = T0 + pd.Timedelta("10min"), T0 + pd.Timedelta("50min")
GIB = 2**30


def _openmetrics(path: Path) -> Path:
    """Exporter-shaped series: counters rise linearly, so every rate is exact."""
    times = range(0, 3600, SCRAPE)
    families: dict[tuple[str, str], list[str]] = {}

    def add(family: str, kind: str, name: str, labels: dict[str, str], value) -> None:
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        families.setdefault((family, kind), []).extend(f"{name}{{{text}}} {value(t)!r} {T0.timestamp() + t:.0f}" for t in times)

    for service, f in SERVICES.items():
        own = {"service": service, "app": service}
        for instance in ("i1", "i2"):
            at = {**own, "instance": instance}
            add("http_requests", "counter", "http_requests_total", {**at, "code": "200"}, lambda t, f=f: 9.0 * f * t)
            add("http_requests", "counter", "http_requests_total", {**at, "code": "500"}, lambda t, f=f: 1.0 * f * t)
            for le, share in (("0.1", 5.0), ("0.25", 8.0), ("0.5", 9.8), ("+Inf", 10.0)):
                add("http_request_duration_seconds", "counter", "http_request_duration_seconds_bucket", {**at, "le": le}, lambda t, f=f, s=share: s * f * t)
            add("process_cpu_seconds", "counter", "process_cpu_seconds_total", at, lambda t, f=f: 0.5 * f * t)
            for cpu in range(4):
                for mode, share in (("idle", 1 - 0.15 * f), ("user", 0.1 * f), ("system", 0.05 * f)):
                    add("node_cpu_seconds", "counter", "node_cpu_seconds_total", {**at, "cpu": str(cpu), "mode": mode}, lambda t, s=share: s * t)
            add("node_memory_MemTotal_bytes", "gauge", "node_memory_MemTotal_bytes", at, lambda t: 16.0 * GIB)
            add("node_memory_MemAvailable_bytes", "gauge", "node_memory_MemAvailable_bytes", at, lambda t, f=f: (16.0 - 4 * f) * GIB)
        for pod in ("p1", "p2"):
            # (container, CPU cores used, CPU limit in cores, working set GiB, memory limit GiB)
            for container, used, cores, memory, limit in (("app", 0.6 * f, 2.0, 1.0 * f, 4.0), ("", 0.65 * f, 2.0, 1.1 * f, 4.0), ("POD", 0.01, None, 0.01, 0.0)):
                at = {**own, "pod": f"{service}-{pod}", "container": container}
                add("container_cpu_usage_seconds", "counter", "container_cpu_usage_seconds_total", at, lambda t, u=used: u * t)
                if cores is not None:  # cAdvisor exports no quota for a container without a CPU limit
                    add("container_spec_cpu_quota", "gauge", "container_spec_cpu_quota", at, lambda t, c=cores: c * 100000.0)
                    add("container_spec_cpu_period", "gauge", "container_spec_cpu_period", at, lambda t: 100000.0)
                add("container_memory_working_set_bytes", "gauge", "container_memory_working_set_bytes", at, lambda t, m=memory: m * GIB)
                add("container_spec_memory_limit_bytes", "gauge", "container_spec_memory_limit_bytes", at, lambda t, m=limit: m * GIB)
    with path.open("w") as out:
        for (family, kind), lines in families.items():
            out.write(f"# TYPE {family} {kind}\n" + "\n".join(lines) + "\n")
        out.write("# EOF\n")
    return path


@pytest.fixture(scope="module")
def exporters(tmp_path_factory):
    need(shutil.which("prometheus") is not None and shutil.which("promtool") is not None, "Debian's 'prometheus' package is not installed")
    with LocalPrometheus(_openmetrics(tmp_path_factory.mktemp("exporters") / "exporters.om")) as server:
        yield server


def expected(query_set: str, f: float) -> dict[str, float]:
    """Each metric's value for a service whose rates are scaled by ``f``, worked out by hand."""
    # The p95 falls in the (0.25, 0.5] bucket: 16 of 20 requests (per f) are under 0.25 s, 19.6 under 0.5 s.
    http = {"request_rate": 20.0 * f, "error_rate": 10.0, "latency_p95": 1000 * (0.25 + 0.25 * (19 - 16) / (19.6 - 16)), "latency_p99": 500.0}
    cpu_limit = 2 * 2.0  # two pods, 2 cores each: what is provisioned
    return {
        "http_client": {**http, "cpu_usage": 100 * 2 * 0.5 * f / cpu_limit, "memory_usage": 100 * 2 * 1.0 * f / 8},
        "cadvisor": {**http, "cpu_usage": 100 * 2 * 0.6 * f / cpu_limit, "memory_usage": 100 * 2 * 1.0 * f / 8},
        "node_exporter": {**http, "cpu_usage": 100 * 0.15 * f, "memory_usage": 100 * 4 * f / 16},
    }[query_set]


def prom(url: str, **extra) -> PrometheusSettings:
    return PrometheusSettings(url=url, retries=extra.pop("retries", 1), backoff=0.01, **extra)


@pytest.mark.parametrize(("query_set", "label"), [("http_client", "service"), ("cadvisor", "app"), ("node_exporter", "service")])
def test_each_query_set_gives_the_hand_worked_values_cpu_as_percent_of_what_is_provisioned(exporters, query_set, label):
    settings = prom(exporters.url, query_set=query_set, service_label=label)
    tasks = [Task(s, m, START, END) for s in SERVICES for m in settings.templates]
    with PrometheusClient(settings, env={}) as client:
        frame = client.fetch(tasks)
    got = frame.groupby(["service", "metric"], observed=True)["value"].agg(["min", "max", "size"])
    for service, f in SERVICES.items():
        for metric, value in expected(query_set, f).items():
            row = got.loc[(service, metric)]
            assert row["size"] == 40, (service, metric)
            assert row["min"] == pytest.approx(value, rel=1e-6) and row["max"] == pytest.approx(value, rel=1e-6), (service, metric)


def test_the_query_sets_are_the_ones_the_setting_accepts():
    assert set(PrometheusSettings.model_fields["query_set"].annotation.__args__) == set(QUERY_SETS)
    for queries in QUERY_SETS.values():
        assert all('$label="$service"' in q for q in queries.values())


def test_a_wrong_service_label_is_a_no_series_error_naming_it(exporters):
    settings = prom(exporters.url, query_set="cadvisor", service_label="team")
    with PrometheusClient(settings, env={}) as client, pytest.raises(NoSeriesError) as err:
        client.fetch([Task("cart", "cpu_usage", START, END)])
    message = str(err.value)
    assert "no series for cpu_usage of cart" in message and "`team`" in message
    assert 'rate(container_cpu_usage_seconds_total{team="cart",container!="",container!="POD"}[5m])' in message


def test_check_queries_names_each_problem(exporters):
    settings = prom(
        exporters.url,
        query_set="cadvisor",
        queries={
            "cpu_usage": 'rate(container_cpu_usage_seconds_total{$label="$service",container="app"}[5m])',
            "memory_usage": 'container_memory_working_set_bytes{team="$service",container="app"}',
            "latency_p99": 'sum(rate(http_requests_total{$label="$service"}[5m])',
        },
    )
    rows = check_queries(settings, ["cart", "search"], START, END, env={})
    assert [(r["service"], r["metric"]) for r in rows] == [(s, m) for s in ("cart", "search") for m in settings.templates]
    by = {(r["service"], r["metric"]): r for r in rows}
    ok = by[("cart", "request_rate")]
    assert ok == {"service": "cart", "metric": "request_rate", "query": 'sum(rate(http_requests_total{service="cart"}[5m]))', "series": 1, "samples": 40, "problem": None}
    assert by[("search", "cpu_usage")]["series"] == 2 and by[("search", "cpu_usage")]["samples"] == 80
    assert by[("search", "cpu_usage")]["problem"] == "2 series: aggregate with sum (they differ in pod)"
    assert by[("cart", "memory_usage")]["problem"] == "no series: is the label `team` right?"
    assert by[("cart", "memory_usage")]["series"] == 0
    assert by[("cart", "latency_p99")]["problem"].startswith("rejected: ") and "parse error" in by[("cart", "latency_p99")]["problem"]
    assert sum(r["problem"] is not None for r in rows) == 6


def test_check_queries_counts_each_sample_once_across_chunks(exporters):
    settings = prom(exporters.url, query_set="node_exporter", max_points=7)
    rows = check_queries(settings, ["cart"], START, END, env={})
    assert {r["samples"] for r in rows} == {40} and {r["problem"] for r in rows} == {None}


def test_check_queries_stops_at_a_server_it_cannot_reach():
    from workbench.testing.process import free_port

    with pytest.raises(PrometheusError, match="could not be reached"):
        check_queries(prom(f"http://127.0.0.1:{free_port()}", retries=0), ["cart"], START, END, env={})


def test_discover_services_lists_the_label_values(exporters):
    assert discover_services(prom(exporters.url), env={}) == ["cart", "search"]
    assert discover_services(prom(exporters.url, service_label="team"), label="app", env={}) == ["cart", "search"]
    assert discover_services(prom(exporters.url), label="team", env={}) == []
    with pytest.raises(ConfigError, match="not a Prometheus label name"):
        discover_services(prom(exporters.url), label="bad-label", env={})
