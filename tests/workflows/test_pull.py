"""``workbench pull`` against a real Prometheus (Debian's package), backfilled with promtool.

The servers are started by fixtures in conftest.py on 127.0.0.1 with temporary folders.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from conftest import BACKFILL_QUERIES, PULL_END, PULL_START, prometheus_project

from workbench.cli import main
from workbench.config import load_config
from workbench.sources import load_metrics
from workbench.sources.prometheus import NoSeriesError, PrometheusError
from workbench.store import open_store
from workbench.store.parquet import ParquetStore
from workbench.testing.prometheus import LocalPrometheus
from workbench.workflows.pull import check, pull


def same_rows(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Exactly the same timestamps and values, row for row (dtypes of labels aside)."""
    assert len(got) == len(expected)
    assert got["timestamp"].tolist() == expected["timestamp"].tolist()
    assert got["service"].astype(str).tolist() == expected["service"].astype(str).tolist()
    assert got["metric"].astype(str).tolist() == expected["metric"].astype(str).tolist()
    assert got["value"].tolist() == expected["value"].tolist()  # bit for bit, no tolerance


@pytest.fixture()
def project(tmp_path, prometheus, monkeypatch):
    monkeypatch.delenv("WORKBENCH_PROMETHEUS_URL", raising=False)
    return load_config(prometheus_project(tmp_path / "wb", prometheus.url))


def test_pull_30_days_matches_the_source_exactly(project, backfilled):
    _, expected = backfilled
    result = pull(project, start=PULL_START, end=PULL_END)
    # 30 days at 60 s is 43,200 points per series: several queries under the 11,000 limit.
    assert result.fetched == len(expected) == result.added
    assert result.series == 6 and result.up_to_date == 0
    stored = ParquetStore(project.root / "data" / "store").read()
    same_rows(stored, expected)
    months = sorted(p.parent.name for p in (project.root / "data" / "store" / "service=checkout").glob("month=*/data.parquet"))
    assert months == ["month=2026-09"]


def test_pulling_the_same_range_twice_changes_nothing(project, backfilled):
    pull(project, start=PULL_START, end=PULL_START + pd.Timedelta(days=2))
    files = sorted((project.root / "data" / "store").rglob("*.parquet"))
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    again = pull(project, start=PULL_START, end=PULL_START + pd.Timedelta(days=2))
    assert again.fetched > 0 and again.added == 0 and again.changed == 0
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before


def test_incremental_pull_fetches_only_what_the_store_lacks(project, backfilled):
    _, expected = backfilled
    first = pull(project, since="3D", now=PULL_START + pd.Timedelta(days=2))
    assert first.added > 0
    later = pull(project, since="3D", now=PULL_START + pd.Timedelta(days=2, hours=6))
    # Six hours of six metrics at one minute, less the sample's gaps in them.
    stored = ParquetStore(project.root / "data" / "store").read()
    window = expected[expected["timestamp"] < PULL_START + pd.Timedelta(days=2, hours=6, minutes=1)]
    same_rows(stored, window.reset_index(drop=True))
    assert later.added == later.fetched <= 6 * 6 * 60
    assert later.fetched == len(window) - first.fetched
    nothing = pull(project, since="3D", now=PULL_START + pd.Timedelta(days=2, hours=6))
    assert nothing.fetched == 0 and nothing.added == 0


def test_stopping_prometheus_mid_pull_is_a_clear_error_and_writes_nothing(tmp_path, backfilled, monkeypatch):
    monkeypatch.delenv("WORKBENCH_PROMETHEUS_URL", raising=False)
    store = tmp_path / "wb" / "data" / "store"
    with LocalPrometheus(backfilled[0], lookback_delta="59s") as server:
        config = load_config(prometheus_project(tmp_path / "wb", server.url, parallel=1))
        seen = []

        def stop_after_three(done, total):
            seen.append((done, total))
            if done == 3:
                server.stop()

        with pytest.raises(PrometheusError, match=r"could not be reached after 2 tries"):
            pull(config, start=PULL_START, end=PULL_END, on_chunk=stop_after_three)
    assert seen[-1][0] == 3 and seen[-1][1] == 30  # 6 metrics x 5 chunks; stopped at 3
    assert not store.exists() or not list(store.rglob("*.parquet"))


def test_cli_pull_fills_the_store_and_prints_json(project, prometheus, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CONFIG", str(project.root / "workbench.yaml"))
    code = main(["pull", "--start", "2026-09-03", "--end", "2026-09-04", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["store"] == "parquet" and summary["added"] == summary["fetched"] > 8000
    frame = load_metrics(project, source="parquet")
    assert frame["timestamp"].min() >= pd.Timestamp("2026-09-03", tz="UTC")
    assert frame["timestamp"].max() < pd.Timestamp("2026-09-04", tz="UTC")


def test_cli_pull_reports_an_unreachable_prometheus(tmp_path, capsys, monkeypatch):
    from workbench.testing.process import free_port

    config = prometheus_project(tmp_path / "wb", f"http://127.0.0.1:{free_port()}", retries=0)
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config))
    assert main(["pull", "--since", "1d"]) == 1
    err = capsys.readouterr().err
    assert "could not be reached" in err and "nothing was written" in err


def test_cli_pull_rejects_a_bad_since(tmp_path, capsys, monkeypatch):
    config = prometheus_project(tmp_path / "wb", "http://127.0.0.1:9")
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config))
    assert main(["pull", "--since", "soon"]) == 2
    assert "--since" in capsys.readouterr().err


def test_prometheus_source_reads_without_storing(project):
    frame = load_metrics(project, source="prometheus", start="2026-09-10", end="2026-09-10T01:00")
    assert set(frame["metric"]) == set(project.source.prometheus.templates)
    assert frame["timestamp"].min() == pd.Timestamp("2026-09-10", tz="UTC")
    assert not (project.root / "data" / "store").exists()
    with pytest.raises(NoSeriesError, match="no series for 6 queries from .* Is `service` the label"):
        load_metrics(project, source="prometheus")  # the last 30 days (from today) hold nothing


# -- no series: an error for what the store lacks, not for what has nothing new ------------
def test_stored_series_with_nothing_new_are_up_to_date_not_an_error(project, backfilled):
    first = pull(project, since="3D", now=PULL_END)
    assert first.added > 0
    later = pull(project, since="3D", now=PULL_END + pd.Timedelta(hours=6))  # Prometheus has nothing after PULL_END
    assert later.fetched == 0 and later.up_to_date == 0
    again = pull(project, start=PULL_END, end=PULL_END + pd.Timedelta(days=1))  # an explicit range, all of it stored series
    assert again.fetched == 0


def test_a_series_neither_stored_nor_in_prometheus_fails_the_pull_and_writes_nothing(tmp_path, prometheus, backfilled):
    path = prometheus_project(tmp_path / "wb", prometheus.url, queries={**BACKFILL_QUERIES, "latency_p99": None})
    assert pull(load_config(path), since="3D", now=PULL_START + pd.Timedelta(days=2)).added > 0
    store = tmp_path / "wb" / "data" / "store"
    before = {p: p.read_bytes() for p in store.rglob("*.parquet")}
    # Then latency_p99 is added, with a query that matches nothing: five series are stored, it is not.
    settings = yaml.safe_load(path.read_text())
    settings["source"]["prometheus"]["queries"]["latency_p99"] = 'workbench_latency_p99{service="$service",env="prod"}'
    path.write_text(yaml.safe_dump(settings))
    six = load_config(path)
    with pytest.raises(NoSeriesError) as err:
        pull(six, since="3D", now=PULL_START + pd.Timedelta(days=2, hours=1))
    message = str(err.value)
    assert message.splitlines()[0].startswith("no series for latency_p99 of checkout from 2026-08-31 01:01 to 2026-09-03 01:01 UTC")
    assert message.splitlines()[0].endswith("; nothing was written to the store")
    assert message.splitlines()[1] == '  latency_p99 of checkout (label `service`): workbench_latency_p99{service="checkout",env="prod"}'
    assert {p: p.read_bytes() for p in store.rglob("*.parquet")} == before


def test_cli_pull_with_the_wrong_service_label_exits_1_naming_it(tmp_path, prometheus, capsys, monkeypatch):
    queries = {m: f'workbench_{m}{{$label="$service"}}' for m in BACKFILL_QUERIES}
    config = prometheus_project(tmp_path / "wb", prometheus.url, service_label="app", queries=queries)
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config))
    assert main(["pull", "--start", "2026-09-03", "--end", "2026-09-04"]) == 1
    err = capsys.readouterr().err
    assert "no series for 6 queries" in err and "Is `app` the label" in err and 'workbench_cpu_usage{app="checkout"}' in err
    assert "nothing was written to the store" in err and not (tmp_path / "wb" / "data" / "store").exists()


# -- pull --check ----------------------------------------------------------------------
def test_check_reads_the_last_hour_and_stores_nothing(project):
    lo, hi, rows = check(project, now=PULL_START + pd.Timedelta(days=10, seconds=30))
    assert (lo, hi) == (PULL_START + pd.Timedelta(days=10, minutes=1) - pd.Timedelta("1h"), PULL_START + pd.Timedelta(days=10, minutes=1))
    assert [r["metric"] for r in rows] == list(BACKFILL_QUERIES) and {r["series"] for r in rows} == {1}
    assert {r["problem"] for r in rows} == {None} and all(0 < r["samples"] <= 60 for r in rows)
    assert not (project.root / "data" / "store").exists()


def test_cli_pull_check_prints_each_query_and_exits_0_when_all_is_well(project, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CONFIG", str(project.root / "workbench.yaml"))
    assert main(["pull", "--check", "--start", "2026-09-10", "--end", "2026-09-10T01:00"]) == 0
    out = capsys.readouterr().out
    assert "query set http_client, service label `service`, 2026-09-10 00:00 to 2026-09-10 01:00 UTC; nothing is stored" in out
    assert 'workbench_cpu_usage{service="checkout"}' in out and "all 6 queries return one series each" in out
    assert main(["pull", "--check", "--start", "2026-09-10", "--end", "2026-09-10T01:00", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == 0 and len(report["queries"]) == 6
    assert set(report["queries"][0]) == {"service", "metric", "query", "series", "samples", "problem"}
    assert not (project.root / "data" / "store").exists()


def test_cli_pull_check_names_the_problems_and_exits_1(tmp_path, prometheus, capsys, monkeypatch):
    queries = {
        **BACKFILL_QUERIES,
        "cpu_usage": 'workbench_cpu_usage{$label="$service"}',
        "memory_usage": '{__name__=~"workbench_(cpu|memory)_usage", service="$service"}',
    }
    config = prometheus_project(tmp_path / "wb", prometheus.url, service_label="app", queries=queries)
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config))
    args = ["pull", "--check", "--services", "checkout", "--start", "2026-09-10", "--end", "2026-09-10T01:00"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "no series: is the label `app` right?" in out and "2 series: aggregate with sum (they differ in __name__)" in out
    assert "2 of 6 queries have a problem" in out
    assert main([*args, "--json"]) == 1
    problems = {r["metric"]: r["problem"] for r in json.loads(capsys.readouterr().out)["queries"] if r["problem"]}
    assert problems == {"cpu_usage": "no series: is the label `app` right?", "memory_usage": "2 series: aggregate with sum (they differ in __name__)"}
    assert not (tmp_path / "wb" / "data" / "store").exists()


def test_open_store_rejects_an_unknown_kind(project):
    with pytest.raises(Exception, match="unknown store"):
        open_store(project, "mongodb")


@pytest.mark.notebooks
def test_pull_then_report_on_prometheus(tmp_path, monkeypatch, capsys):
    """The issue's 'done when': pull fills the store, and the report renders from Prometheus.

    The data is the sample, generated to end yesterday (a report reads the last
    ``lookback`` before now) and backfilled into a server of its own.
    """
    from conftest import make_project

    from workbench.sources.sample import ensure_sample
    from workbench.testing.prometheus import write_openmetrics

    start = (pd.Timestamp.now(tz="UTC").floor("D") - pd.Timedelta(days=22)).strftime("%Y-%m-%d")
    source = {"kind": "sample", "sample": {"days": 21, "start": start}}
    path = make_project(tmp_path / "wb", services=["checkout"], source=source)
    config = load_config(path)
    metrics = pd.read_parquet(ensure_sample(config))
    om = write_openmetrics(metrics, tmp_path / "recent.om")
    with LocalPrometheus(om) as server:
        prom = {"url": server.url, "queries": BACKFILL_QUERIES, "lookback": "23D"}
        settings = yaml.safe_load(path.read_text())
        settings["source"]["prometheus"] = prom
        path.write_text(yaml.safe_dump(settings))
        monkeypatch.setenv("WORKBENCH_CONFIG", str(path))
        # Prometheus here ignores the token; what matters is that no report ever shows it.
        monkeypatch.setenv("WORKBENCH_PROMETHEUS_TOKEN", "tok-must-never-appear")
        assert main(["pull", "--since", "23d"]) == 0
        assert "pulled" in capsys.readouterr().out
        stored = load_metrics(load_config(path), source="parquet")
        assert len(stored) >= len(metrics)  # the 5-minute lookback fills short scrape gaps
        assert main(["report", "--param", "source=prometheus", "--run-id", "from-prometheus"]) == 0
    index = (tmp_path / "wb" / "reports" / "from-prometheus" / "index.html").read_text()
    assert "source <b>prometheus</b>" in index and "all reports succeeded" in index
    for written in (tmp_path / "wb" / "reports").rglob("*"):
        if written.is_file():
            assert b"tok-must-never-appear" not in written.read_bytes(), written
