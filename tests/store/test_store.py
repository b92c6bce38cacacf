import pandas as pd
import pytest

from workbench.errors import DataError, StoreError
from workbench.store import open_store
from workbench.store.files import read_parquet, write_parquet
from workbench.store.parquet import ParquetStore
from workbench.store.postgres import PostgresStore


def frame():
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=4, freq="1min", tz="UTC").tolist() * 2,
            "service": ["a"] * 4 + ["b"] * 4,
            "metric": ["cpu_usage"] * 8,
            "value": [float(v) for v in range(8)],
        }
    )


def test_round_trip_with_filters(tmp_path):
    path = write_parquet(frame(), tmp_path / "m.parquet")
    everything = read_parquet(path)
    assert len(everything) == 8
    some = read_parquet(path, services=["b"], start=pd.Timestamp("2026-01-01T00:01Z"), end=pd.Timestamp("2026-01-01T00:03Z"))
    assert some["value"].tolist() == [5.0, 6.0]
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_write_rejects_bad_frames_and_keeps_the_old_file(tmp_path):
    path = write_parquet(frame(), tmp_path / "m.parquet")
    bad = frame().assign(value="x")
    with pytest.raises(DataError):
        write_parquet(bad, path)
    assert len(read_parquet(path)) == 8


def test_unreadable_and_missing(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_parquet(tmp_path / "none.parquet")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 but not really")
    with pytest.raises(DataError, match="cannot read as Parquet"):
        read_parquet(broken)


# -- the partitioned Parquet store and the PostgreSQL store ------------------------------
def month_frame(days: int = 40) -> pd.DataFrame:
    """Two services, two metrics, hourly, across a month boundary, with a gap."""
    stamps = pd.date_range("2026-08-20", periods=days * 24, freq="1h", tz="UTC")
    rows = []
    for service in ("a", "b"):
        for metric in ("cpu_usage", "request_rate"):
            for i, ts in enumerate(stamps):
                if 100 <= i < 110:
                    continue  # a gap
                rows.append((ts, service, metric, float(i % 24) + (0.5 if metric == "cpu_usage" else 0.0) + (100 if service == "b" else 0)))
    return pd.DataFrame(rows, columns=["timestamp", "service", "metric", "value"])


def test_parquet_store_partitions_by_service_and_month(tmp_path):
    store = ParquetStore(tmp_path / "store")
    result = store.write(month_frame())
    assert result.added == len(month_frame()) and result.changed == 0
    parts = sorted(str(p.relative_to(tmp_path / "store")) for p in (tmp_path / "store").rglob("*.parquet"))
    assert parts == [f"service={s}/month={m}/data.parquet" for s in ("a", "b") for m in ("2026-08", "2026-09")]
    assert store.services() == ["a", "b"]
    assert not list((tmp_path / "store").rglob(".*tmp"))


def test_parquet_store_write_twice_changes_nothing(tmp_path):
    store = ParquetStore(tmp_path / "store")
    store.write(month_frame())
    files = sorted((tmp_path / "store").rglob("*.parquet"))
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    again = store.write(month_frame())
    assert (again.added, again.changed) == (0, 0)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before


def check_store(store) -> None:
    """The same behaviour from either store: read back, filters, upsert, latest, aggregate."""
    data = month_frame()
    assert store.write(data).added == len(data)
    back = store.read()
    expected = data.sort_values(["service", "metric", "timestamp"]).reset_index(drop=True)
    assert back["timestamp"].tolist() == expected["timestamp"].tolist()
    assert back["value"].tolist() == expected["value"].tolist()
    some = store.read(["b"], pd.Timestamp("2026-09-01", tz="UTC"), pd.Timestamp("2026-09-02", tz="UTC"))
    assert set(some["service"]) == {"b"} and len(some) == 2 * 24
    # Upsert: an overlapping write with two changed values and one new row.
    update = data[data["timestamp"] >= "2026-09-28"].copy()
    update.loc[update.index[:2], "value"] = 99.5
    newer = pd.DataFrame({"timestamp": [pd.Timestamp("2026-09-29", tz="UTC")], "service": ["a"], "metric": ["cpu_usage"], "value": [7.0]})
    result = store.write(pd.concat([update, newer]))
    assert (result.added, result.changed) == (1, 2)
    assert (store.write(pd.concat([update, newer])).added, store.write(pd.concat([update, newer])).changed) == (0, 0)
    assert len(store.read()) == len(data) + 1
    assert (store.read()["value"] == 99.5).sum() == 2
    latest = store.latest()
    assert latest[("a", "cpu_usage")] == pd.Timestamp("2026-09-29", tz="UTC")
    assert latest[("b", "request_rate")] == data["timestamp"].max()
    # 15-minute windows of hourly data: one sample per window that has one.
    agg = store.aggregate("6h", services=["a"], start=pd.Timestamp("2026-08-21", tz="UTC"), end=pd.Timestamp("2026-08-22", tz="UTC"))
    assert len(agg) == 4 * 2 and (agg["count"] == 6).all()
    first = agg[(agg["metric"] == "cpu_usage")].iloc[0]
    assert first["window"] == pd.Timestamp("2026-08-21", tz="UTC")
    assert first["mean"] == pytest.approx(sum(h + 0.5 for h in range(6)) / 6) and first["max"] == 5.5


def test_parquet_store_contract(tmp_path):
    check_store(ParquetStore(tmp_path / "store"))


def test_parquet_store_reads_nothing_from_an_empty_store(tmp_path):
    store = ParquetStore(tmp_path / "none")
    assert store.read().empty and store.latest() == {} and store.services() == []


def test_parquet_store_corrupt_partition_is_a_clear_error_and_is_kept(tmp_path):
    store = ParquetStore(tmp_path / "store")
    store.write(month_frame())
    bad = tmp_path / "store" / "service=a" / "month=2026-09" / "data.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(StoreError, match="cannot read as Parquet.*move it aside"):
        store.read(["a"])
    with pytest.raises(StoreError):
        store.write(month_frame())
    assert bad.read_bytes() == b"not parquet"


def test_parquet_store_rejects_bad_frames_and_writes_nothing(tmp_path):
    store = ParquetStore(tmp_path / "store")
    with pytest.raises(DataError, match="non-numeric"):
        store.write(month_frame().assign(value="x"))
    assert not (tmp_path / "store").exists()


def test_aggregates_match_the_feature_windows(tmp_path, sample_config):
    """The store's 15-minute aggregates are the windows features.to_windows builds (full windows)."""
    from workbench.features.windows import AGGREGATIONS, to_windows
    from workbench.sources import load_metrics

    frame = load_metrics(sample_config, services=["checkout"], start="2026-09-02", end="2026-09-03")
    store = ParquetStore(tmp_path / "store")
    store.write(frame)
    agg = store.aggregate("15min")
    agg = agg[agg["count"] == 15]  # to_windows fills short gaps; compare windows without any
    wide = to_windows(frame.pivot(index="timestamp", columns="metric", values="value"), "15min")
    assert agg["metric"].nunique() == 6 and len(agg) > 6 * 80
    for metric, rows in agg.groupby("metric"):
        mine = rows.set_index("window")[AGGREGATIONS[metric]]
        assert mine.to_numpy() == pytest.approx(wide.loc[mine.index, metric].to_numpy(), rel=1e-12), metric


@pytest.fixture()
def pg_store(postgres, request):
    store = PostgresStore(postgres.dsn, table=f"m_{request.node.name[-20:].replace('[', '_').replace(']', '_').replace('-', '_')}")
    yield store


def test_postgres_store_contract(pg_store):
    check_store(pg_store)


def test_postgres_aggregates_in_sql_equal_the_parquet_store(pg_store, tmp_path):
    parquet = ParquetStore(tmp_path / "store")
    for store in (pg_store, parquet):
        store.write(month_frame())
    a, b = pg_store.aggregate("15min"), parquet.aggregate("15min")
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_postgres_store_rejects_bad_frames_and_writes_nothing(pg_store):
    with pytest.raises(DataError):
        pg_store.write(month_frame().assign(metric="cpu"))
    assert pg_store.read().empty


def test_postgres_unreachable_is_a_clear_error():
    from workbench.testing.process import free_port

    store = PostgresStore(f"host=127.0.0.1 port={free_port()} dbname=x user=x", connect_timeout=2)
    with pytest.raises(StoreError, match="cannot connect to the PostgreSQL store"):
        store.read()


def test_postgres_source_and_open_store(postgres, tmp_path, monkeypatch):
    from conftest import make_project

    from workbench.config import load_config
    from workbench.sources import load_metrics

    config = load_config(make_project(tmp_path / "wb", store={"kind": "postgres", "postgres": {"dsn": "dbname=unused", "table": "from_env"}}))
    monkeypatch.setenv("WORKBENCH_POSTGRES_DSN", postgres.dsn)
    store = open_store(config)
    assert isinstance(store, PostgresStore) and "dbname" not in repr(store)
    store.write(month_frame().replace({"service": {"a": "checkout", "b": "payments"}}))
    frame = load_metrics(config, source="postgres", services=["payments"])
    assert set(frame["service"]) == {"payments"} and len(frame) == 2 * (40 * 24 - 10)


def test_a_password_in_the_config_is_refused(tmp_path):
    from conftest import make_project

    from workbench.config import load_config
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match="no password in workbench.yaml"):
        load_config(make_project(tmp_path / "wb", store={"kind": "postgres", "postgres": {"dsn": "host=x password=hunter2"}}))
