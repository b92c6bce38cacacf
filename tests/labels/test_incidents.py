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


# --- the editable log ------------------------------------------------------------------------

from workbench.errors import LabelError  # noqa: E402
from workbench.labels.log import IncidentLog


@pytest.fixture()
def log(tmp_path):
    path = write(tmp_path, HEADER + ROW)
    return IncidentLog(path, services=["checkout", "search"])


def test_add_writes_the_exact_row_with_the_next_id(log):
    new = log.add("search", "2026-09-02T08:00Z", "2026-09-02 09:30", "minor", " latency_creep: slow db ", "reindexed", "ana")
    assert new == "INC-0002"
    assert log.path.read_text() == HEADER + ROW + "INC-0002,search,2026-09-02T08:00:00Z,2026-09-02T09:30:00Z,minor,latency_creep: slow db,reindexed,ana\n"


def test_edit_keeps_the_id(log):
    log.edit("INC-1", end="2026-09-01T12:00Z", severity="critical")
    assert log.path.read_text() == HEADER + ROW.replace("T11:00:00Z", "T12:00:00Z").replace("major", "critical")


def test_delete_and_undo_restore_the_exact_file(log):
    log.add("search", "2026-09-02T08:00Z", "2026-09-02T09:00Z", "minor", "x")
    log.delete("INC-1")
    assert "INC-1," not in log.path.read_text()
    assert log.undo() == "delete INC-1"
    assert log.undo() == "add INC-0002"
    assert log.path.read_text() == HEADER + ROW
    with pytest.raises(LabelError, match="nothing to undo"):
        log.undo()


@pytest.mark.parametrize(
    "args, message",
    [
        (("checkout", "2026-09-01T10:30Z", "2026-09-01T12:00Z", "minor", "x"), "INC-1 and INC-0002 overlap"),
        (("search", "2026-09-02T10:00Z", "2026-09-02T09:00Z", "minor", "x"), "end must be after start"),
        (("payments", "2026-09-02T08:00Z", "2026-09-02T09:00Z", "minor", "x"), "unknown service"),
        (("search", "2026-09-02T08:00Z", "2026-09-02T09:00Z", "sev2", "x"), "unknown severity"),
        (("search", "2026-09-02T08:00Z", "2026-09-02T09:00Z", "minor", "  "), "a cause is needed"),
        (("search", "yesterday", "2026-09-02T09:00Z", "minor", "x"), "cannot parse"),
    ],
    ids=["overlap", "end-before-start", "unknown-service", "bad-severity", "no-cause", "bad-time"],
)
def test_bad_actions_leave_the_file_unchanged(log, args, message):
    before = log.path.read_text()
    with pytest.raises(LabelError, match=message):
        log.add(*args)
    assert log.path.read_text() == before


def test_edit_and_delete_unknown_ids(log):
    with pytest.raises(LabelError, match="no incident 'INC-9'"):
        log.edit("INC-9", cause="x")
    with pytest.raises(LabelError, match="cannot edit"):
        log.edit("INC-1", id="INC-7")
    with pytest.raises(LabelError, match="no incident"):
        log.delete("INC-9")


def test_corrupt_file_is_an_error_at_open(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_bytes(b"\x00\x01garbage\xff")
    with pytest.raises(DataError):
        IncidentLog(path)
    assert path.read_bytes() == b"\x00\x01garbage\xff"


def test_dismissed_candidates_are_negative_labels(log):
    log.dismiss("checkout", "2026-09-03T01:00Z", "2026-09-03T01:30Z", "maintenance nobody put in the calendar", "bo")
    assert log.dismissed_path.read_text() == (
        "service,start,end,reason,dismissed_by\n"
        "checkout,2026-09-03T01:00:00Z,2026-09-03T01:30:00Z,maintenance nobody put in the calendar,bo\n"
    )
    assert log.undo().startswith("dismiss checkout")
    assert not log.dismissed_path.exists()


def test_merge_adds_new_rows_under_new_ids(log, tmp_path):
    other = read_incidents(write(tmp_path, HEADER + ROW + ROW.replace("INC-1", "X-7").replace("2026-09-01", "2026-09-05"), "theirs.csv"))
    assert log.merge(other, labelled_by="import") == ["INC-0002"]  # INC-1's twin is skipped
    assert log.frame()["labelled_by"].tolist() == ["ana", "import"]


def test_new_log_starts_at_one(tmp_path):
    log = IncidentLog(tmp_path / "new.csv")
    assert log.add("any", "2026-01-01T00:00Z", "2026-01-01T01:00Z", "minor", "x") == "INC-0001"
