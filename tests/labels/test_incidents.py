import os
import stat

import pandas as pd
import pytest

from workbench.errors import DataError
from workbench.labels.incidents import in_range, read_events, read_incidents, write_csv

HEADER = "id,service,start,end,severity,cause,resolution,labelled_by\n"
ROW = "INC-1,checkout,2026-09-01T10:00:00Z,2026-09-01T11:00:00Z,major,partial_outage: x,fixed,ana\n"


def write(tmp_path, text, name="incidents.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_valid_log(tmp_path):
    log = read_incidents(write(tmp_path, HEADER + ROW))
    assert log.loc[0, "start"] == pd.Timestamp("2026-09-01T10:00Z")
    assert log.loc[0, "severity"] == "major"


def test_naive_times_are_utc(tmp_path):
    log = read_incidents(write(tmp_path, HEADER + ROW.replace("T10:00:00Z", " 10:00")))
    assert log.loc[0, "start"] == pd.Timestamp("2026-09-01T10:00Z")


@pytest.mark.parametrize(
    "text, message",
    [
        (HEADER + ROW.replace("T11:00:00Z", "T09:00:00Z"), "end is not after start on lines \\[2\\]"),
        (HEADER + ROW + ROW, "duplicate incident ids"),
        (HEADER + ROW.replace("major", "sev1"), "unknown severities"),
        ("id,service,start\nINC-1,checkout,2026-09-01\n", "missing columns"),
        (HEADER + ROW.replace("2026-09-01T10:00:00Z", "yesterday"), "cannot parse"),
    ],
    ids=["end-before-start", "duplicate-id", "bad-severity", "missing-columns", "bad-time"],
)
def test_bad_logs(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_incidents(write(tmp_path, text))


def test_corrupt_and_missing_files(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_bytes(b"\x00\xff\xfe garbage")
    with pytest.raises(DataError):
        read_incidents(path)
    with pytest.raises(DataError, match="not found"):
        read_incidents(tmp_path / "none.csv")


def test_events_need_a_type(tmp_path):
    text = "start,end,service,type,description\n2026-09-01T10:00Z,2026-09-01T11:00Z,*,,sale\n"
    with pytest.raises(DataError, match="without a type"):
        read_events(write(tmp_path, text, "events.csv"))


def test_in_range_includes_star_events(tmp_path):
    text = (
        "start,end,service,type,description\n"
        "2026-09-01T10:00Z,2026-09-01T11:00Z,*,campaign,sale\n"
        "2026-09-01T10:00Z,2026-09-01T11:00Z,search,deploy,r1\n"
        "2026-09-02T10:00Z,2026-09-02T11:00Z,checkout,deploy,r2\n"
    )
    events = read_events(write(tmp_path, text, "events.csv"))
    hit = in_range(events, "checkout", pd.Timestamp("2026-09-01T00:00Z"), pd.Timestamp("2026-09-02T00:00Z"))
    assert hit["description"].tolist() == ["sale"]


def test_write_is_atomic_and_round_trips(tmp_path):
    path = write(tmp_path, HEADER + ROW)
    log = read_incidents(path)
    write_csv(log, path)
    assert path.read_text() == HEADER + ROW
    assert [p.name for p in tmp_path.iterdir()] == ["incidents.csv"]
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & stat.S_IRGRP  # follows the umask, not mkstemp's private 0600


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = write(tmp_path, HEADER + ROW)

    class Boom(Exception):
        pass

    def explode(*args, **kwargs):
        raise Boom

    monkeypatch.setattr(pd.DataFrame, "to_csv", explode)
    with pytest.raises(Boom):
        write_csv(read_incidents(path), path)
    assert path.read_text() == HEADER + ROW
    assert [p.name for p in tmp_path.iterdir()] == ["incidents.csv"]
