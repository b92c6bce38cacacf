"""The labeller's logic through its classes, and the widget layer clicked without a browser."""

import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.errors import LabelError
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events
from workbench.labels.labeller import Labeller
from workbench.labels.log import IncidentLog
from workbench.sources import load_service
from workbench.workflows.label import LabellerWidget, labelling

HEADER = "id,service,start,end,severity,cause,resolution,labelled_by\n"


@pytest.fixture()
def session(tmp_path):
    config = load_config(make_project(tmp_path / "p", days=14, services=["checkout"]))
    samples = load_service(config, "checkout", start="2026-09-08", end="2026-09-10")
    config.path("incidents").write_text(HEADER)  # a fresh log: what is written is only what the test does
    windows = to_windows(samples, config.window, config.max_fill)
    flagged = pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-09-08T03:00Z", "2026-09-09T05:00Z"]),
            "end": pd.to_datetime(["2026-09-08T03:30Z", "2026-09-09T06:00Z"]),
            "source": ["model", "rule"],
            "confidence": [91.0, None],
            "rules": ["", "cpu_high"],
        }
    )
    events = read_events(config.path("events"))
    return Labeller(IncidentLog.open(config), "checkout", windows, events, flagged)


def test_select_add_update_delete_undo(session):
    path = session.log.path
    session.select("2026-09-08T10:00Z", "2026-09-08T11:15Z")
    new = session.add("major", "partial_outage: bad node", "drained", "ana")
    row = f"{new},checkout,2026-09-08T10:00:00Z,2026-09-08T11:15:00Z,major,partial_outage: bad node,drained,ana\n"
    assert path.read_text() == HEADER + row
    session.select("2026-09-08T10:00Z", "2026-09-08T12:00Z")
    session.update(new, severity="critical")
    assert path.read_text() == HEADER + row.replace("11:15", "12:00").replace("major", "critical")
    session.delete(new)
    assert path.read_text() == HEADER
    session.undo()
    session.undo()
    assert path.read_text() == HEADER + row


def test_review_queue_accept_dismiss_skip(session):
    first = session.current()
    assert first["start"] == pd.Timestamp("2026-09-08T03:00Z")
    assert session.selection == (first["start"], first["end"])
    session.skip()
    assert session.current()["start"] == pd.Timestamp("2026-09-09T05:00Z")  # the skipped one goes last
    new = session.accept("minor", "night_cpu_saturation: batch job", "bo")
    assert session.log.frame().set_index("id").loc[new, "start"] == pd.Timestamp("2026-09-09T05:00Z")
    session.dismiss("deploy warm-up", "bo")
    assert session.log.dismissed()["reason"].tolist() == ["deploy warm-up"]
    assert session.current() is None
    with pytest.raises(LabelError, match="queue is empty"):
        session.accept("minor", "x")


def test_bad_actions_are_clear_and_change_nothing(session):
    with pytest.raises(LabelError, match="end after it starts"):
        session.select("2026-09-08T11:00Z", "2026-09-08T10:00Z")
    session.select("2026-09-08T10:00Z", "2026-09-08T11:00Z")
    session.add("major", "x")
    before = session.log.path.read_text()
    session.select("2026-09-08T10:30Z", "2026-09-08T12:00Z")
    with pytest.raises(LabelError, match="overlap"):
        session.add("major", "y")
    assert session.log.path.read_text() == before


def test_widget_buttons_drive_the_labeller(session):
    widget = LabellerWidget(session)
    widget.range.value = (pd.Timestamp("2026-09-09T12:00Z"), pd.Timestamp("2026-09-09T13:00Z"))
    widget.cause.value = "traffic_drop: CDN"
    widget.add_button.click()
    assert "added INC-0001" in widget.status.value
    log = session.log.frame()
    assert log[["start", "end", "cause"]].values.tolist() == [[pd.Timestamp("2026-09-09T12:00Z"), pd.Timestamp("2026-09-09T13:00Z"), "traffic_drop: CDN"]]
    widget.add_button.click()  # the same range again: overlaps, shown, not saved
    assert "overlap" in widget.status.value and len(session.log.frame()) == 1
    widget.undo_button.click()
    assert session.log.frame().empty


def test_headless_report_gets_a_summary(tmp_path, monkeypatch):
    config = load_config(make_project(tmp_path / "h", days=14, services=["checkout"]))
    load_service(config, "checkout")  # writes the sample's labels
    monkeypatch.setenv("WORKBENCH_HEADLESS", "1")
    view = labelling(config, "checkout")
    assert type(view).__name__ == "_Summary"
