"""The editable incident log (:mod:`workbench.labels.log`): validated, atomic, undoable actions."""

import pytest

from workbench.errors import DataError, LabelError
from workbench.labels.incidents import read_incidents
from workbench.labels.log import IncidentLog

HEADER = "id,service,start,end,severity,cause,resolution,labelled_by\n"
ROW = "INC-1,checkout,2026-09-01T10:00:00Z,2026-09-01T11:00:00Z,major,partial_outage: x,fixed,ana\n"


def write(tmp_path, text, name="incidents.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


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


# -- two sessions on one log ---------------------------------------------------------------
def test_undo_takes_back_only_this_sessions_action(log):
    colleague = IncidentLog(log.path, services=["checkout", "search"])
    mine = log.add("search", "2026-09-02T08:00Z", "2026-09-02T09:00Z", "minor", "mine")
    theirs = colleague.add("search", "2026-09-03T08:00Z", "2026-09-03T09:00Z", "minor", "theirs")
    assert log.undo() == f"add {mine}"
    assert log.frame()["id"].tolist() == ["INC-1", theirs]
    assert colleague.undo() == f"add {theirs}" and log.path.read_text() == HEADER + ROW


def test_undo_of_an_edit_keeps_a_colleagues_later_edit_elsewhere(log):
    colleague = IncidentLog(log.path, services=["checkout", "search"])
    other = colleague.add("search", "2026-09-03T08:00Z", "2026-09-03T09:00Z", "minor", "theirs")
    log.edit("INC-1", cause="mine")
    colleague.edit(other, cause="theirs, better")
    log.undo()
    assert log.frame().set_index("id")["cause"].to_dict() == {"INC-1": "partial_outage: x", other: "theirs, better"}


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_undo_refuses_when_someone_else_changed_what_it_wrote(log, change):
    colleague = IncidentLog(log.path, services=["checkout", "search"])
    mine = log.add("search", "2026-09-02T08:00Z", "2026-09-02T09:00Z", "minor", "mine")
    if change == "edit":
        colleague.edit(mine, cause="corrected by a colleague")
    else:
        colleague.delete(mine)
    before = log.path.read_text()
    with pytest.raises(LabelError, match="someone else has changed or removed what it wrote since; reload"):
        log.undo()
    assert log.path.read_text() == before


def test_undo_of_a_delete_refuses_when_the_window_was_labelled_again(log):
    colleague = IncidentLog(log.path, services=["checkout", "search"])
    log.delete("INC-1")
    colleague.add("checkout", "2026-09-01T10:30Z", "2026-09-01T11:30Z", "major", "relabelled")
    before = log.path.read_text()
    with pytest.raises(LabelError, match="cannot undo delete INC-1: .*overlap.*reload"):
        log.undo()
    assert log.path.read_text() == before


def test_an_old_row_of_an_unconfigured_service_does_not_block_new_labels(tmp_path):
    log = IncidentLog(write(tmp_path, HEADER + ROW.replace("checkout", "retired")), services=["checkout"])
    log.add("checkout", "2026-09-02T08:00Z", "2026-09-02T09:00Z", "minor", "x")
    assert log.frame()["service"].tolist() == ["retired", "checkout"]


ADDER = """
import sys
from workbench.labels.log import IncidentLog
log = IncidentLog(sys.argv[1])
for k in range(int(sys.argv[3])):
    day = 1 + k // 20
    log.add(sys.argv[2], f"2026-10-{day:02d}T{k % 20:02d}:00Z", f"2026-10-{day:02d}T{k % 20:02d}:30Z", "minor", f"{sys.argv[2]} {k}")
"""


def test_two_processes_labelling_at_once_lose_nothing(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, HEADER + ROW)
    procs = [subprocess.Popen([sys.executable, "-c", ADDER, str(path), service, "40"]) for service in ("search", "payments")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    frame = read_incidents(path)
    assert len(frame) == 81 and frame["id"].is_unique
    assert frame.groupby("service").size().to_dict() == {"checkout": 1, "payments": 40, "search": 40}


def test_a_hundred_random_kills_leave_a_whole_log(tmp_path):
    from killing import kill_at_random

    rows = [ROW.replace("INC-1", f"INC-{k}").replace("2026-09-01T1", f"2026-{1 + k // 28:02d}-{1 + k % 28:02d}T1") for k in range(300)]
    path = write(tmp_path, HEADER + "".join(rows))
    log = IncidentLog(path, services=["checkout"])

    def edit(k: int) -> None:
        log.edit("INC-7", cause=f"version {k}")

    def read():
        frame = read_incidents(path)
        return frame.loc[frame["id"] == "INC-7", "cause"].iloc[0] if len(frame) == 300 else "rows lost"

    seen = kill_at_random(edit, read, {0: "version 0", 1: "version 1"}, max_delay=0.05)
    assert seen[0] and seen[1]
