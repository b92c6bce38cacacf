import pandas as pd
import pytest

from workbench.frames import DataError
from workbench.store import read_parquet, write_parquet


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
