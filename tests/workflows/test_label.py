"""The 02 workflow: the widget layer over a Labeller, clicked without a browser, and the headless summary."""

import pandas as pd
from conftest import make_project

from workbench.config import load_config
from workbench.labels.log import IncidentLog
from workbench.workflows.label import LabellerWidget, LabelSummary, labelling

HEADER = "id,service,start,end,severity,cause,resolution,labelled_by\n"


def test_widget_buttons_drive_the_labeller(two_days):
    session = two_days
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
    monkeypatch.setenv("WORKBENCH_HEADLESS", "1")
    view = labelling(config, "checkout")
    assert isinstance(view, LabelSummary)
    log = IncidentLog.open(config).frame()
    mine = log[(log["service"] == "checkout") & (log["end"] > view.windows.index[0]) & (log["start"] < view.windows.index[-1])]
    assert not mine.empty  # the sample has incidents in the last fortnight: something to count
    assert view.headline["incidents labelled"] == len(log)
    assert view.headline["checkout incidents in range"] == len(mine) == len(view.incidents)
    assert int(view.by_kind.to_numpy().sum()) == len(log)
