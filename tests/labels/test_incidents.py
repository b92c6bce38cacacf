import os
import stat

import pandas as pd
import pytest

from workbench.errors import DataError, DataWarning
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


def test_naive_times_are_utc_with_a_warning_naming_the_lines(tmp_path):
    text = HEADER + ROW + ROW.replace("INC-1", "INC-2").replace("2026-09-01T10:00:00Z", "2026-09-02 10:00").replace("2026-09-01T11:00:00Z", "2026-09-02 11:00")
    with pytest.warns(DataWarning, match=r"without a UTC offset on lines \[3\] are taken as UTC"):
        log = read_incidents(write(tmp_path, text))
    assert log.loc[1, "start"] == pd.Timestamp("2026-09-02T10:00Z")


@pytest.mark.parametrize("stamp", ["2026-09-01T10:00:00Z", "2026-09-01T12:00:00+02:00", "2026-09-01 05:00-0500", "2026-09-01 10:00 UTC"])
def test_times_with_an_offset_raise_no_warning(tmp_path, stamp, recwarn):
    log = read_incidents(write(tmp_path, HEADER + ROW.replace("2026-09-01T10:00:00Z", stamp)))
    assert log.loc[0, "start"] == pd.Timestamp("2026-09-01T10:00Z")
    assert not [w for w in recwarn if issubclass(w.category, DataWarning)]


@pytest.mark.parametrize(
    "text, message",
    [
        (HEADER + ROW.replace("T11:00:00Z", "T09:00:00Z"), "end is not after start on lines \\[2\\]"),
        (HEADER + ROW + ROW, "duplicate incident ids"),
        (HEADER + ROW.replace("major", "sev1"), "unknown severities"),
        ("id,service,start\nINC-1,checkout,2026-09-01\n", "missing columns"),
        (HEADER + ROW.replace("2026-09-01T10:00:00Z", "yesterday"), "cannot parse"),
        (HEADER + ROW.replace(",2026-09-01T11:00:00Z,", ",,"), "end is empty on lines \\[2\\]"),
        (HEADER + ROW.replace("INC-1,checkout", "INC-1,"), "service is empty on lines \\[2\\]"),
        (HEADER + ROW + ROW.replace("INC-1", "INC-2").replace("T10:00:00Z", "T10:30:00Z"), "INC-1 and INC-2 \\(checkout\\)"),
        (HEADER + ROW + ROW.replace("INC-1", "INC-2")[:30], "line 3 has 3 fields, the header has 8: the file looks cut short"),
        ("", "the file is empty"),
        (HEADER + ROW + ROW.replace("INC-1", "INC-2").replace("2026-09-01", "2026-09-02")[:-4], "does not end with a line break, so its last row \\(line 3\\)"),
    ],
    ids=["end-before-start", "duplicate-id", "bad-severity", "missing-columns", "bad-time", "empty-end", "empty-service",
         "overlap", "truncated", "zero-bytes", "cut-in-the-last-field"],
)
def test_bad_logs(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_incidents(write(tmp_path, text))


def test_a_log_cut_mid_line_is_refused_whole(tmp_path):
    """The sample's log cut in the middle of a row: refused, not read as the rows before the cut."""
    rows = [ROW.replace("INC-1", f"INC-{k}").replace("2026-09-01", f"2026-09-{k:02d}") for k in range(1, 30)]
    text = HEADER + "".join(rows)
    cut = text[: len(text) // 2]
    cut = cut[: cut.rindex(",") + 2]  # inside a field, after a comma: a short row
    with pytest.raises(DataError, match="cut short"):
        read_incidents(write(tmp_path, cut))
    assert len(read_incidents(write(tmp_path, text))) == 29


def test_incidents_of_unconfigured_services_are_left_out_with_a_warning(tmp_path):
    path = write(tmp_path, HEADER + ROW + ROW.replace("INC-1,checkout", "INC-2,chekout"))
    with pytest.warns(DataWarning, match="INC-2 \\('chekout'\\); configured: checkout, search"):
        log = read_incidents(path, ["checkout", "search"])
    assert log["id"].tolist() == ["INC-1"]
    assert len(read_incidents(path)) == 2  # the file keeps them


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
