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
from workbench.sources.prometheus import PrometheusError
from workbench.store import open_store
from workbench.store.parquet import ParquetStore
from workbench.testing.prometheus import LocalPrometheus
from workbench.workflows.pull import pull


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
    assert set(frame["metric"]) == set(project.source.prometheus.queries)
    assert frame["timestamp"].min() == pd.Timestamp("2026-09-10", tz="UTC")
    assert not (project.root / "data" / "store").exists()
    with pytest.raises(Exception, match="no metrics"):
        load_metrics(project, source="prometheus")  # the last 30 days (from today) hold nothing


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
