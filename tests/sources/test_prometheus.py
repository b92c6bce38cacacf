"""The Prometheus source against a real server: chunking, errors, retries, credentials.

Faults a healthy server does not make (HTTP 503, a slow answer) come from a small
fault-injecting proxy in front of the real Prometheus, which also records the headers
the client sends. TLS and basic auth are Prometheus' own (``--web.config.file``).
"""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import BACKFILL_QUERIES, PULL_END, PULL_START, need, prometheus_project

from workbench.config import load_config
from workbench.errors import ConfigError, SourceError
from workbench.settings import DEFAULT_QUERIES, PrometheusSettings
from workbench.settings.data import QUERY_SETS
from workbench.sources.prometheus import (
    NoSeriesError,
    PrometheusClient,
    PrometheusError,
    Task,
    discover_services,
    render_query,
)
from workbench.sources.promql import expected_label
from workbench.testing.prometheus import LocalPrometheus

DAY = pd.Timedelta(days=1)


def settings(url: str, **extra) -> PrometheusSettings:
    return PrometheusSettings(url=url, queries=BACKFILL_QUERIES, retries=extra.pop("retries", 1), backoff=0.01, **extra)


def task(metric: str = "cpu_usage", days: float = 1) -> Task:
    return Task("checkout", metric, PULL_START, PULL_START + days * DAY)


# -- chunks and templates (no server) --------------------------------------------------
def test_chunks_stay_under_the_limit_share_edges_and_cover_the_range():
    client = PrometheusClient(settings("http://127.0.0.1:9", max_points=10000), env={})
    chunks = client.chunks(PULL_START, PULL_START + 30 * DAY)
    assert len(chunks) == 5  # 43,200 points
    assert chunks[0][0] == PULL_START and chunks[-1][1] == PULL_START + 30 * DAY - pd.Timedelta("60s")
    for (lo, hi), (next_lo, _) in zip(chunks, chunks[1:]):
        assert (hi - lo) / pd.Timedelta("60s") + 1 <= 10000
        assert hi == next_lo
    # A start off the step grid moves up to the next grid point.
    assert client.chunks(PULL_START + pd.Timedelta("10s"), PULL_START + pd.Timedelta("5min"))[0][0] == PULL_START + pd.Timedelta("60s")
    assert client.chunks(PULL_START, PULL_START) == []


def test_query_templates():
    assert render_query('up{service="$service"}', "checkout") == 'up{service="checkout"}'
    assert render_query('up{service="${service}"} * $$', "a") == 'up{service="a"} * $'
    assert render_query('up{$label="$service"}', "a", label="app") == 'up{app="a"}'
    with pytest.raises(ConfigError, match="only \\$label and \\$service"):
        render_query('up{job="$job"}', "a")


@pytest.mark.parametrize(
    ("template", "label", "expected"),
    [('x{$label="$service"}', "app", "app"), ('x{${label}=~"${service}"}', "app", "app"), ('x{job="$service"}', "app", "job"), ("x + $service", "app", "app")],
)
def test_the_label_a_template_expects(template, label, expected):
    assert expected_label(template, label) == expected


# -- query sets and overrides in the config (no server) -----------------------------------
def test_the_default_query_set_renders_as_before_with_the_service_label():
    default = PrometheusSettings()
    assert default.query_set == "http_client" and default.service_label == "service" and default.queries == {}
    assert default.templates == QUERY_SETS["http_client"] == DEFAULT_QUERIES
    assert render_query(default.templates["request_rate"], "checkout") == 'sum(rate(http_requests_total{service="checkout"}[5m]))'
    assert render_query(default.templates["request_rate"], "checkout", "app") == 'sum(rate(http_requests_total{app="checkout"}[5m]))'


def test_queries_merge_over_the_set_and_null_leaves_a_metric_out():
    mine = 'sum(my_cpu{$label="$service"})'
    settings = PrometheusSettings(query_set="node_exporter", queries={"cpu_usage": mine, "latency_p99": None})
    assert settings.templates == {**{k: v for k, v in QUERY_SETS["node_exporter"].items() if k != "latency_p99"}, "cpu_usage": mine}


def test_a_full_queries_mapping_as_in_the_repository_config_wins(tmp_path):
    from conftest import REPO

    config = load_config(REPO / "workbench.yaml")
    written = yaml.safe_load((REPO / "workbench.yaml").read_text())["source"]["prometheus"].get("queries")
    if written:  # the repository's config spells every query out: they are what is pulled
        assert config.source.prometheus.templates == written
    full = load_config(prometheus_project(tmp_path / "wb", "http://127.0.0.1:9090", query_set="cadvisor"))
    assert full.source.prometheus.templates == BACKFILL_QUERIES


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"query_set": "kubernetes"}, "'http_client', 'cadvisor' or 'node_exporter'"),
        ({"service_label": "app-name"}, "not a Prometheus label name"),
        ({"queries": {"cpu_usage": 'up{$job="$service"}'}}, r"may use only \$label and \$service"),
        ({"queries": {"cpu_usage": 'up{$label="x"}'}}, r"must contain \$service"),
        ({"queries": {"cpu_pct": 'up{service="$service"}'}}, "unknown metrics"),
        ({"queries": dict.fromkeys(QUERY_SETS["http_client"])}, "at least one metric needs a query"),
    ],
    ids=["unknown-set", "bad-label", "unknown-placeholder", "no-service", "unknown-metric", "all-left-out"],
)
def test_bad_prometheus_settings_are_refused(tmp_path, extra, message):
    settings = {"queries": BACKFILL_QUERIES, **extra}
    with pytest.raises(ConfigError, match=message):
        load_config(prometheus_project(tmp_path / "wb", "http://127.0.0.1:9090", **settings))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WORKBENCH_PROMETHEUS_TOKEN": "t", "WORKBENCH_PROMETHEUS_USER": "u"}, "not both"),
        ({"WORKBENCH_PROMETHEUS_USER": "u"}, "needs both"),
        ({"WORKBENCH_PROMETHEUS_CA": "/no/such/ca.pem"}, "names no file"),
    ],
)
def test_bad_credentials_in_the_environment(env, message):
    with pytest.raises(ConfigError, match=message):
        PrometheusClient(settings("http://127.0.0.1:9"), env=env)


def test_credentials_in_the_config_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="credentials do not belong in workbench.yaml"):
        load_config(prometheus_project(tmp_path / "wb", "http://user:secret@127.0.0.1:9090"))
    with pytest.raises(ConfigError, match=r"must contain \$service"):
        load_config(prometheus_project(tmp_path / "wb2", "http://127.0.0.1:9090", queries={"cpu_usage": "up"}))


# -- the real server -------------------------------------------------------------------
def test_the_limit_of_11000_points_is_respected(prometheus, backfilled):
    with PrometheusClient(settings(prometheus.url, max_points=11000), env={}) as client:
        frame = client.fetch([task(days=30)])
    _, expected = backfilled
    assert len(frame) == int((expected["metric"] == "cpu_usage").sum())


def test_a_rejected_query_shows_the_query_and_the_reason(prometheus):
    broken = {"cpu_usage": 'rate(workbench_cpu_usage{service="$service"}'}
    with PrometheusClient(settings(prometheus.url), env={}) as client:
        with pytest.raises(PrometheusError, match=r"rejected the query \(cpu_usage of checkout\) with HTTP 400") as err:
            client.fetch([task()], queries=broken)
    assert 'query: rate(workbench_cpu_usage{service="checkout"}' in str(err.value)
    assert "parse error" in str(err.value)


def test_a_query_returning_several_series_is_an_error(prometheus):
    wide = {"cpu_usage": '{__name__=~"workbench_.*", service="$service"}'}
    with PrometheusClient(settings(prometheus.url), env={}) as client:
        with pytest.raises(PrometheusError, match="returned 6 series.*aggregate with sum or avg"):
            client.fetch([task()], queries=wide)


def test_a_query_with_no_series_is_an_error_naming_service_metric_query_and_label(prometheus):
    before = PULL_START - 10 * DAY, PULL_START - 9 * DAY
    with PrometheusClient(settings(prometheus.url), env={}) as client:
        with pytest.raises(NoSeriesError) as err:
            client.fetch([Task("checkout", "cpu_usage", *before), task("request_rate")])
    message = str(err.value)
    assert message.startswith("no series for cpu_usage of checkout from 2026-08-22 00:00 to 2026-08-23 00:00 UTC")
    assert '(label `service`): workbench_cpu_usage{service="checkout"}' in message and "request_rate" not in message
    assert isinstance(err.value, SourceError) and err.value.exit_status == 1


def test_a_wrong_label_names_the_configured_one_and_lists_every_empty_series(prometheus):
    wrong = PrometheusSettings(url=prometheus.url, service_label="app", queries={m: f'workbench_{m}{{$label="$service"}}' for m in BACKFILL_QUERIES}, retries=0)
    with PrometheusClient(wrong, env={}) as client, pytest.raises(NoSeriesError) as err:
        client.fetch([task(m) for m in BACKFILL_QUERIES])
    message = str(err.value)
    assert message.startswith("no series for 6 queries") and "Is `app` the label" in message
    assert all(f'{m} of checkout (label `app`): workbench_{m}{{app="checkout"}}' in message for m in BACKFILL_QUERIES)


def test_a_series_the_store_holds_may_have_nothing_new(prometheus):
    after = PULL_END, PULL_END + DAY
    with PrometheusClient(settings(prometheus.url), env={}) as client:
        assert client.fetch([Task("checkout", "cpu_usage", *after, stored=True)]).empty


class FaultProxy:
    """Forwards to ``upstream``; fails the first ``fail`` requests with 503 or sleeps ``delay`` s."""

    def __init__(self, upstream: str, fail: int = 0, delay: float = 0.0, answer: tuple[str, bytes] | None = None) -> None:
        self.upstream, self.fail, self.delay = upstream, fail, delay
        self.answer = answer  # (content type, body): answered with HTTP 200 instead of forwarding
        self.requests: list[dict[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                proxy.requests.append(dict(self.headers))
                n = len(proxy.requests)
                if n <= proxy.fail:
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b'{"status":"error","error":"injected 503"}')
                    return
                if proxy.answer is not None:
                    kind, body = proxy.answer
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if n == 1 and proxy.delay:
                    time.sleep(proxy.delay)
                try:
                    with urllib.request.urlopen(proxy.upstream + self.path, timeout=10) as up:
                        body, code = up.read(), up.status
                except urllib.error.HTTPError as exc:
                    body, code = exc.read(), exc.code
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): expected

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_5xx_is_retried_with_backoff(prometheus):
    with FaultProxy(prometheus.url, fail=2) as proxy, PrometheusClient(settings(proxy.url, retries=2, parallel=1), env={}) as client:
        frame = client.fetch([task()])
    assert len(proxy.requests) == 3 and len(frame) > 1000


def test_5xx_after_the_last_retry_is_a_clear_error(prometheus):
    with FaultProxy(prometheus.url, fail=5) as proxy, PrometheusClient(settings(proxy.url, retries=1, parallel=1), env={}) as client:
        with pytest.raises(PrometheusError, match="answered HTTP 503 after 2 tries.*injected 503"):
            client.fetch([task()])
    assert len(proxy.requests) == 2


def test_a_slow_answer_is_retried_then_a_timeout(prometheus):
    with FaultProxy(prometheus.url, delay=1.5) as proxy, PrometheusClient(settings(proxy.url, retries=1, timeout="0.5s", parallel=1), env={}) as client:
        assert len(client.fetch([task()])) > 1000
    with FaultProxy(prometheus.url, delay=1.5) as proxy, PrometheusClient(settings(proxy.url, retries=0, timeout="0.5s", parallel=1), env={}) as client:
        with pytest.raises(PrometheusError, match="timed out after 1 tries"):
            client.fetch([task()])


SSO_PAGE = b"<!DOCTYPE html><html><head><title>Sign in - Acme SSO</title></head><body><form>user</form></body></html>"


@pytest.mark.parametrize(
    "answer, words",
    [
        (("text/html", SSO_PAGE), "Sign in - Acme SSO"),
        (("application/json", b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{}'), '{"status":"success"'),
        (("application/json", b""), "an empty body"),
    ],
    ids=["sso-page", "cut-json", "empty"],
)
def test_a_200_that_is_not_prometheus_json_says_so_and_is_not_retried(prometheus, answer, words):
    with FaultProxy(prometheus.url, answer=answer) as proxy, PrometheusClient(settings(proxy.url, retries=3), env={}) as client:
        with pytest.raises(PrometheusError) as err:
            client.fetch([task()])
    message = str(err.value)
    assert "answered" in message and "not with Prometheus JSON" in message and words in message
    assert "could not be reached" not in message and "tries" not in message
    assert len(proxy.requests) == 1  # an answer is not retried


def test_credentials_in_the_url_never_reach_a_message():
    env = {"WORKBENCH_PROMETHEUS_URL": "http://alice:S3cretPW@127.0.0.1:1"}
    with PrometheusClient(settings("http://127.0.0.1:9"), env=env) as client, pytest.raises(PrometheusError) as err:
        client.fetch([task()])
    assert "S3cretPW" not in str(err.value) and "alice:***@127.0.0.1:1" in str(err.value)


def test_infinite_values_from_the_server_are_left_out_as_gaps_with_a_note(prometheus):
    from workbench.errors import DataWarning

    queries = {**BACKFILL_QUERIES, "cpu_usage": 'workbench_cpu_usage{service="$service"} / 0'}
    with PrometheusClient(PrometheusSettings(url=prometheus.url, queries=queries, retries=0), env={}) as client:
        with pytest.warns(DataWarning, match=r"checkout cpu_usage: \d+ infinite value"):
            frame = client.fetch([task("cpu_usage"), task("request_rate")])
    assert set(frame["metric"]) == {"request_rate"}


def test_discover_services_goes_through_the_retried_session_and_masks_credentials(prometheus):
    with FaultProxy(prometheus.url, fail=2) as proxy:
        assert discover_services(settings(proxy.url, retries=2), env={}) == ["checkout"]
    assert len(proxy.requests) == 3
    with FaultProxy(prometheus.url, fail=5) as proxy:
        env = {"WORKBENCH_PROMETHEUS_URL": proxy.url.replace("://", "://alice:S3cretPW@")}
        with pytest.raises(PrometheusError, match="answered HTTP 503 after 2 tries") as err:
            discover_services(settings(proxy.url, retries=1), env=env)
    assert "S3cretPW" not in str(err.value) and "alice:***@" in str(err.value)


def test_the_bearer_token_comes_from_the_environment(prometheus):
    env = {"WORKBENCH_PROMETHEUS_TOKEN": "tok-from-env"}
    with FaultProxy(prometheus.url) as proxy, PrometheusClient(settings(proxy.url), env=env) as client:
        client.fetch([task()])
    assert {r.get("Authorization") for r in proxy.requests} == {"Bearer tok-from-env"}


def _tls_files(folder: Path) -> tuple[Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1, made with openssl."""
    need(subprocess.run(["which", "openssl"], capture_output=True).returncode == 0, "openssl is not installed")

    def run(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=workbench test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.cnf")
    web = folder / "web.yml"
    # bcrypt of "wb-test-password" (a test fixture, not a secret), as Prometheus wants it.
    web.write_text(
        f"tls_server_config:\n  cert_file: {folder / 'server.crt'}\n  key_file: {folder / 'server.key'}\n"
        "basic_auth_users:\n  alice: $2b$04$ASYd6sUKJfW5v7bHy2wA4OhSscUL9M7Jh6FpWPK8vvTZYnZ6RLpV.\n"
    )
    return folder / "ca.crt", web


def test_tls_with_a_private_ca_and_basic_auth(tmp_path, backfilled):
    ca, web = _tls_files(tmp_path)
    with LocalPrometheus(backfilled[0], lookback_delta="59s", web_config=web) as server:
        assert server.url.startswith("https://")
        good = {"WORKBENCH_PROMETHEUS_USER": "alice", "WORKBENCH_PROMETHEUS_PASSWORD": "wb-test-password", "WORKBENCH_PROMETHEUS_CA": str(ca)}
        with PrometheusClient(settings(server.url), env=good) as client:
            assert len(client.fetch([task()])) > 1000
        wrong = {**good, "WORKBENCH_PROMETHEUS_PASSWORD": "nope"}
        with PrometheusClient(settings(server.url), env=wrong) as client:
            with pytest.raises(PrometheusError, match="HTTP 401") as err:
                client.fetch([task()])
        assert "nope" not in str(err.value)
        no_ca = {k: v for k, v in good.items() if k != "WORKBENCH_PROMETHEUS_CA"}
        with PrometheusClient(settings(server.url, retries=0), env=no_ca) as client:
            with pytest.raises(PrometheusError, match="could not be reached"):
                client.fetch([task()])
