import pandas as pd
import pytest
from conftest import make_project

from workbench._registry import SOURCES as registry
from workbench.config import load_config
from workbench.errors import ConfigError, DataError
from workbench.sources import load_metrics, load_service, time_range


def test_registry_lists_and_rejects(sample_config):
    assert {"sample", "files"} <= set(registry.names())
    with pytest.raises(ConfigError, match="unknown source 'influx'; available: .*sample"):
        registry.create("influx", sample_config)


def test_load_service_range_is_half_open(sample_config):
    wide = load_service(sample_config, "payments", start="2026-09-03", end="2026-09-04")
    assert wide.index[0] >= pd.Timestamp("2026-09-03T00:00Z")
    assert wide.index[-1] < pd.Timestamp("2026-09-04T00:00Z")
    assert list(wide.columns)[0] == "request_rate"


def test_naive_and_zoned_ranges_agree(sample_config):
    naive = load_service(sample_config, "auth", start="2026-09-03 00:00", end="2026-09-03 06:00")
    zoned = load_service(sample_config, "auth", start="2026-09-03T02:00+02:00", end="2026-09-03T08:00+02:00")
    pd.testing.assert_frame_equal(naive, zoned)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"services": ["nope"]}, ConfigError, "unknown service"),
        ({"start": "2026-09-05", "end": "2026-09-04"}, DataError, "must be after start"),
        ({"start": "2027-01-01"}, DataError, "no metrics"),
        ({"start": "the day after"}, DataError, "cannot parse"),
        ({"source": "influx"}, ConfigError, "unknown source"),
    ],
)
def test_bad_requests(sample_config, kwargs, error, message):
    with pytest.raises(error, match=message):
        load_metrics(sample_config, **kwargs)


def test_time_range_open_ends():
    assert time_range("", None) == (None, None)
    lo, hi = time_range("2026-01-01", "")
    assert lo == pd.Timestamp("2026-01-01T00:00Z") and hi is None


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_source_reads_untidy_long_form(tmp_path, suffix):
    rows = pd.DataFrame(
        {
            "timestamp": ["2026-01-01 00:02", "2026-01-01 00:00", "2026-01-01 00:01", "2026-01-01 00:01"],
            "service": ["checkout"] * 4,
            "metric": ["cpu_usage"] * 4,
            "value": [3.0, 1.0, 2.0, 2.0],
        }
    )
    path = tmp_path / f"metrics{suffix}"
    rows.to_csv(path, index=False) if suffix == ".csv" else rows.to_parquet(path)
    config = load_config(make_project(tmp_path / "p", source={"kind": "files", "files": {"path": str(path)}}))
    wide = load_service(config, "checkout")
    assert wide["cpu_usage"].tolist() == [1.0, 2.0, 3.0]
    assert str(wide.index.tz) == "UTC"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe\x00garbage\x00\x01", "not a readable CSV|lacks columns"),
        (b"timestamp,service,metric,value\n2026-01-01,checkout,cpu_usage,1\n2026-01-01,checkout,cpu_usage,2\n", "different values"),
        (b"", "the file is empty"),
        (b"timestamp,service,metric,value\n", "metrics frame is empty"),
    ],
    ids=["corrupt", "conflicting-duplicates", "zero-bytes", "header-only"],
)
def test_files_source_bad_files(tmp_path, content, message):
    path = tmp_path / "metrics.csv"
    path.write_bytes(content)
    config = load_config(make_project(tmp_path / "p", source={"kind": "files", "files": {"path": str(path)}}))
    with pytest.raises(DataError, match=message):
        load_metrics(config)


def test_files_source_missing_file(tmp_path):
    config = load_config(make_project(tmp_path / "p", source={"kind": "files", "files": {"path": "nowhere.parquet"}}))
    with pytest.raises(DataError, match="not found"):
        load_metrics(config)


def files_project(tmp_path, rows: pd.DataFrame, **files):
    path = tmp_path / "metrics.csv"
    rows.to_csv(path, index=False)
    return load_config(make_project(tmp_path / "p", source={"kind": "files", "files": {"path": str(path), **files}}))


def test_epoch_second_timestamps_are_read_as_seconds(tmp_path):
    start = pd.Timestamp("2026-10-01T00:00Z")
    stamps = pd.date_range(start, periods=120, freq="1min")
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1s")
    rows = pd.DataFrame({"timestamp": seconds, "service": "checkout", "metric": "cpu_usage", "value": 40.0})
    wide = load_service(files_project(tmp_path, rows), "checkout")
    assert wide.index[0] == start and wide.index[-1] == stamps[-1] and len(wide) == 120


def dst_rows(stamps: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": stamps, "service": "checkout", "metric": "cpu_usage", "value": range(len(stamps))})


# Berlin's autumn change: 03:00 CEST becomes 02:00 CET, so 02:00-02:59 local happens twice.
AUTUMN = ["2026-10-25 01:30", "2026-10-25 02:00", "2026-10-25 02:30", "2026-10-25 02:00", "2026-10-25 02:30", "2026-10-25 03:00"]


def test_local_times_across_a_dst_change_are_read_with_the_configured_zone(tmp_path):
    wide = load_service(files_project(tmp_path, dst_rows(AUTUMN), timezone="Europe/Berlin"), "checkout")
    expected = pd.DatetimeIndex(["2026-10-24T23:30Z", "2026-10-25T00:00Z", "2026-10-25T00:30Z", "2026-10-25T01:00Z", "2026-10-25T01:30Z", "2026-10-25T02:00Z"])
    assert wide.index.equals(expected.rename("timestamp")) and wide["cpu_usage"].tolist() == list(range(6))


def test_local_times_without_a_zone_are_refused_with_the_hint(tmp_path):
    with pytest.raises(DataError, match="set source.files.timezone"):
        load_metrics(files_project(tmp_path, dst_rows(AUTUMN)))


def test_an_unknown_zone_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        files_project(tmp_path, dst_rows(AUTUMN), timezone="Mars/Olympus")


def test_a_wide_file_with_its_own_names_is_mapped_to_the_contract(tmp_path):
    from workbench.errors import DataWarning

    stamps = pd.date_range("2026-10-01", periods=3, freq="1min", tz="UTC").astype(str)
    rows = pd.DataFrame({"ts": list(stamps) * 2, "app": ["api"] * 3 + ["web"] * 3, "p95_ms": [10.0, 11, 12, 20, 21, 22],
                         "cpu_usage": [1.0, 2, 3, 4, 5, 6], "gc_pauses": 0.0})
    config = files_project(tmp_path, rows, form="wide", columns={"timestamp": "ts", "service": "app"}, metrics={"p95_ms": "latency_p95"})
    config = config.model_copy(update={"services": ["api", "web"]})
    with pytest.warns(DataWarning, match=r"metrics \['gc_pauses'\] are not canonical and not mapped"):
        frame = load_metrics(config)
        wide = load_service(config, "web")
    assert sorted(frame["metric"].unique()) == ["cpu_usage", "latency_p95"]
    assert wide["latency_p95"].tolist() == [20.0, 21.0, 22.0] and wide["cpu_usage"].tolist() == [4.0, 5.0, 6.0]


def test_a_long_file_with_its_own_column_and_metric_names(tmp_path):
    rows = pd.DataFrame({"time": ["2026-10-01T00:00Z", "2026-10-01T00:01Z"], "svc": "checkout", "name": "rps", "val": [5.0, 6.0]})
    config = files_project(tmp_path, rows, columns={"timestamp": "time", "service": "svc", "metric": "name", "value": "val"},
                           metrics={"rps": "request_rate"})
    assert load_service(config, "checkout")["request_rate"].tolist() == [5.0, 6.0]


def test_a_missing_mapped_column_names_the_files_columns(tmp_path):
    rows = pd.DataFrame({"when": ["2026-10-01T00:00Z"], "service": "checkout", "cpu_usage": [1.0]})
    with pytest.raises(DataError, match=r"no column \['timestamp'\] .*the file has \['when', 'service', 'cpu_usage'\]"):
        load_metrics(files_project(tmp_path, rows, form="wide"))


def test_a_mapping_to_an_unknown_metric_is_a_config_error(tmp_path):
    rows = pd.DataFrame({"timestamp": ["2026-10-01T00:00Z"], "service": "checkout", "cpu": [1.0]})
    with pytest.raises(ConfigError, match="maps to unknown metrics \\['cpu_percent'\\]"):
        files_project(tmp_path, rows, form="wide", metrics={"cpu": "cpu_percent"})


def test_epoch_timestamps_with_a_configured_zone_are_still_utc_epochs(tmp_path):
    stamps = pd.date_range("2026-10-01T00:00Z", periods=3, freq="1min")
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1s")
    rows = pd.DataFrame({"timestamp": seconds, "service": "checkout", "metric": "cpu_usage", "value": 40.0})
    wide = load_service(files_project(tmp_path, rows, timezone="Europe/Berlin"), "checkout")
    assert list(wide.index) == list(stamps)
