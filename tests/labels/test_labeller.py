"""One labelling session (:mod:`workbench.labels.labeller`): the selection, actions through the
incident log, and the review queue. Plain logic: no widgets.
"""

import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.errors import LabelError
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events
from workbench.labels.labeller import FLAGGED_COLUMNS, Labeller
from workbench.labels.log import IncidentLog
from workbench.sources import load_service

HEADER = "id,service,start,end,severity,cause,resolution,labelled_by\n"
T = pd.Timestamp


def flagged_windows(*rows) -> pd.DataFrame:
    """Candidate windows from ``(start, end, source)`` rows, in the order given."""
    return pd.DataFrame(
        {
            "start": pd.to_datetime([r[0] for r in rows], utc=True),
            "end": pd.to_datetime([r[1] for r in rows], utc=True),
            "source": [r[2] for r in rows],
            "confidence": [91.0 if r[2] != "rule" else None for r in rows],
            "rules": ["cpu_high" if r[2] != "model" else "" for r in rows],
        },
        columns=FLAGGED_COLUMNS,
    )


#: Three candidates, deliberately not in time order.
FLAGGED = flagged_windows(
    ("2026-09-09T05:00Z", "2026-09-09T06:00Z", "rule"),
    ("2026-09-08T03:00Z", "2026-09-08T03:30Z", "model"),
    ("2026-09-08T20:00Z", "2026-09-08T20:45Z", "both"),
)


@pytest.fixture()
def project(tmp_path):
    """A two-service project with a fresh (empty) incident log, and checkout's windows for two days."""
    config = load_config(make_project(tmp_path / "p", days=14, services=["checkout", "search"]))
    config.path("incidents").write_text(HEADER)  # what is written is only what the test does
    samples = load_service(config, "checkout", start="2026-09-08", end="2026-09-10")
    return config, to_windows(samples, config.window, config.max_fill)


def session(project, flagged=FLAGGED) -> Labeller:
    config, windows = project
    return Labeller(IncidentLog.open(config), "checkout", windows, read_events(config.path("events")), flagged)


# -- the selection ---------------------------------------------------------------------------


def test_the_default_selection_is_the_last_hour(project):
    labeller = session(project)
    end = labeller.windows.index[-1]
    assert labeller.selection == (end - pd.Timedelta("1h"), end)
    assert labeller.width == pd.Timedelta("15min")


@pytest.mark.parametrize(
    "start, end",
    [
        ("2026-09-08 10:00", "2026-09-08 11:15"),  # naive: taken as UTC
        ("2026-09-08T10:00Z", "2026-09-08T11:15Z"),
        ("2026-09-08T12:00+02:00", "2026-09-08T13:15+02:00"),  # converted to UTC
        (pd.Timestamp("2026-09-08 10:00"), pd.Timestamp("2026-09-08 11:15")),
    ],
    ids=["naive-text", "utc-text", "offset-text", "naive-timestamps"],
)
def test_select_reads_times_as_utc(project, start, end):
    labeller = session(project)
    assert labeller.select(start, end) == (T("2026-09-08T10:00Z"), T("2026-09-08T11:15Z"))
    assert labeller.selection == (T("2026-09-08T10:00Z"), T("2026-09-08T11:15Z"))
    assert str(labeller.selection[0].tz) == "UTC"


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("2026-09-08T11:00Z", "2026-09-08T10:00Z", "end after it starts"),
        ("2026-09-08T10:00Z", "2026-09-08T10:00Z", "end after it starts"),
        ("yesterday-ish", "2026-09-08T10:00Z", "cannot parse"),
        ("2026-09-08T10:00Z", "not a time", "cannot parse"),
    ],
    ids=["end-before-start", "empty-range", "garbage-start", "garbage-end"],
)
def test_a_bad_selection_is_a_label_error_and_keeps_the_old_one(project, start, end, message):
    labeller = session(project)
    before = labeller.select("2026-09-08T10:00Z", "2026-09-08T11:00Z")
    with pytest.raises(LabelError, match=message):
        labeller.select(start, end)
    assert labeller.selection == before


# -- actions through the log -----------------------------------------------------------------


def test_add_update_delete_and_undo_go_through_the_log(project):
    labeller = session(project)
    path = labeller.log.path
    labeller.select("2026-09-08T10:00Z", "2026-09-08T11:15Z")
    new = labeller.add("major", "partial_outage: bad node", "drained", "ana")
    assert new == "INC-0001"
    row = "INC-0001,checkout,2026-09-08T10:00:00Z,2026-09-08T11:15:00Z,major,partial_outage: bad node,drained,ana\n"
    assert path.read_text() == HEADER + row
    assert labeller.incidents()["id"].tolist() == ["INC-0001"]

    # Without the selection, only the given fields change; empty ones are left alone.
    labeller.select("2026-09-09T01:00Z", "2026-09-09T02:00Z")
    labeller.update(new, use_selection=False, severity="critical", cause="", resolution=None)
    edited = row.replace("major", "critical")
    assert path.read_text() == HEADER + edited
    # With it (the default), the window becomes the selection.
    labeller.update(new)
    moved = edited.replace("2026-09-08T10:00:00Z,2026-09-08T11:15:00Z", "2026-09-09T01:00:00Z,2026-09-09T02:00:00Z")
    assert path.read_text() == HEADER + moved

    labeller.delete(new)
    assert path.read_text() == HEADER and labeller.incidents().empty
    assert [labeller.undo() for _ in range(4)] == ["delete INC-0001", "edit INC-0001", "edit INC-0001", "add INC-0001"]
    assert path.read_text() == HEADER
    with pytest.raises(LabelError, match="nothing to undo"):
        labeller.undo()


def test_a_refused_action_changes_nothing(project):
    labeller = session(project)
    labeller.select("2026-09-08T10:00Z", "2026-09-08T11:00Z")
    labeller.add("major", "x")
    before = labeller.log.path.read_text()
    labeller.select("2026-09-08T10:30Z", "2026-09-08T12:00Z")
    with pytest.raises(LabelError, match="overlap"):
        labeller.add("minor", "y")
    with pytest.raises(LabelError, match="unknown severity"):
        labeller.update("INC-0001", use_selection=False, severity="sev9")
    with pytest.raises(LabelError, match="no incident"):
        labeller.delete("INC-0042")
    assert labeller.log.path.read_text() == before


def test_incidents_are_this_services_in_the_range_shown(project):
    labeller = session(project)
    log = labeller.log
    inside = log.add("checkout", "2026-09-08T10:00Z", "2026-09-08T11:00Z", "minor", "x")
    log.add("search", "2026-09-08T10:00Z", "2026-09-08T11:00Z", "minor", "other service")
    log.add("checkout", "2026-09-12T10:00Z", "2026-09-12T11:00Z", "minor", "after the range")
    assert labeller.incidents()["id"].tolist() == [inside]


# -- the review queue ------------------------------------------------------------------------


def test_queue_is_in_time_order_without_labelled_or_dismissed_windows(project):
    labeller = session(project)
    assert labeller.queue()["start"].tolist() == [T("2026-09-08T03:00Z"), T("2026-09-08T20:00Z"), T("2026-09-09T05:00Z")]
    # Another service's labels and dismissals do not close checkout's candidates.
    labeller.log.add("search", "2026-09-08T03:00Z", "2026-09-08T04:00Z", "minor", "search only")
    labeller.log.dismiss("search", "2026-09-08T20:00Z", "2026-09-08T21:00Z", "search only")
    assert len(labeller.queue()) == 3
    # An overlapping incident or dismissal of checkout does.
    labeller.log.add("checkout", "2026-09-08T03:15Z", "2026-09-08T04:00Z", "minor", "overlaps the first")
    labeller.log.dismiss("checkout", "2026-09-09T05:45Z", "2026-09-09T07:00Z", "overlaps the last")
    assert labeller.queue()["start"].tolist() == [T("2026-09-08T20:00Z")]
    # Touching is not overlapping.
    labeller.log.add("checkout", "2026-09-08T19:00Z", "2026-09-08T20:00Z", "minor", "ends as it starts")
    assert labeller.queue()["start"].tolist() == [T("2026-09-08T20:00Z")]


def test_skipped_candidates_go_last_and_keep_time_order_among_themselves(project):
    labeller = session(project)
    first = labeller.current()
    assert first["start"] == T("2026-09-08T03:00Z")
    assert labeller.selection == (first["start"], first["end"])  # the candidate is selected
    labeller.skip()
    assert labeller.queue()["start"].tolist() == [T("2026-09-08T20:00Z"), T("2026-09-09T05:00Z"), T("2026-09-08T03:00Z")]
    labeller.skip()
    assert labeller.queue()["start"].tolist() == [T("2026-09-09T05:00Z"), T("2026-09-08T03:00Z"), T("2026-09-08T20:00Z")]
    labeller.skip()
    # All skipped: back in time order; skipping never writes anything.
    assert labeller.queue()["start"].tolist() == [T("2026-09-08T03:00Z"), T("2026-09-08T20:00Z"), T("2026-09-09T05:00Z")]
    assert labeller.log.path.read_text() == HEADER and not labeller.log.dismissed_path.exists()


def test_accept_and_dismiss_label_the_current_candidate(project):
    labeller = session(project)
    new = labeller.accept("minor", "night_cpu_saturation: batch job", "bo")
    assert labeller.log.path.read_text() == HEADER + f"{new},checkout,2026-09-08T03:00:00Z,2026-09-08T03:30:00Z,minor,night_cpu_saturation: batch job,,bo\n"
    labeller.dismiss("deploy warm-up", "bo")
    labeller.dismiss("")  # no reason given
    dismissed = labeller.log.dismissed()
    assert dismissed["reason"].tolist() == ["deploy warm-up", "not an incident"]
    assert dismissed["start"].tolist() == [T("2026-09-08T20:00Z"), T("2026-09-09T05:00Z")]
    assert dismissed["dismissed_by"].fillna("").tolist() == ["bo", ""]
    assert labeller.queue().empty and labeller.current() is None
    with pytest.raises(LabelError, match="queue is empty"):
        labeller.accept("minor", "x")
    with pytest.raises(LabelError, match="queue is empty"):
        labeller.dismiss("x")
    labeller.skip()  # nothing to skip: no error
    assert labeller.undo().startswith("dismiss checkout") and len(labeller.queue()) == 1


def test_no_flagged_windows_is_an_empty_queue(project):
    labeller = session(project, flagged=None)
    assert labeller.queue().empty and list(labeller.queue().columns) == FLAGGED_COLUMNS
    assert labeller.current() is None
    with pytest.raises(LabelError, match="queue is empty"):
        labeller.accept("minor", "x")


def test_select_add_update_delete_undo(two_days):
    path = two_days.log.path
    two_days.select("2026-09-08T10:00Z", "2026-09-08T11:15Z")
    new = two_days.add("major", "partial_outage: bad node", "drained", "ana")
    row = f"{new},checkout,2026-09-08T10:00:00Z,2026-09-08T11:15:00Z,major,partial_outage: bad node,drained,ana\n"
    assert path.read_text() == HEADER + row
    two_days.select("2026-09-08T10:00Z", "2026-09-08T12:00Z")
    two_days.update(new, severity="critical")
    assert path.read_text() == HEADER + row.replace("11:15", "12:00").replace("major", "critical")
    two_days.delete(new)
    assert path.read_text() == HEADER
    two_days.undo()
    two_days.undo()
    assert path.read_text() == HEADER + row


def test_review_queue_accept_dismiss_skip(two_days):
    first = two_days.current()
    assert first["start"] == pd.Timestamp("2026-09-08T03:00Z")
    assert two_days.selection == (first["start"], first["end"])
    two_days.skip()
    assert two_days.current()["start"] == pd.Timestamp("2026-09-09T05:00Z")  # the skipped one goes last
    new = two_days.accept("minor", "night_cpu_saturation: batch job", "bo")
    assert two_days.log.frame().set_index("id").loc[new, "start"] == pd.Timestamp("2026-09-09T05:00Z")
    two_days.dismiss("deploy warm-up", "bo")
    assert two_days.log.dismissed()["reason"].tolist() == ["deploy warm-up"]
    assert two_days.current() is None
    with pytest.raises(LabelError, match="queue is empty"):
        two_days.accept("minor", "x")


def test_bad_actions_are_clear_and_change_nothing(two_days):
    with pytest.raises(LabelError, match="end after it starts"):
        two_days.select("2026-09-08T11:00Z", "2026-09-08T10:00Z")
    two_days.select("2026-09-08T10:00Z", "2026-09-08T11:00Z")
    two_days.add("major", "x")
    before = two_days.log.path.read_text()
    two_days.select("2026-09-08T10:30Z", "2026-09-08T12:00Z")
    with pytest.raises(LabelError, match="overlap"):
        two_days.add("major", "y")
    assert two_days.log.path.read_text() == before
