"""The 02 workflow: the widget layer over a Labeller, clicked without a browser, and the headless summary."""

import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.labels.log import IncidentLog
from workbench.present.headline import HEADLINE_MIME
from workbench.workflows.label import (
    HOW_TO,
    LabellerWidget,
    LabelSummary,
    labelled_answer,
    labelling,
)

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


def test_the_widget_shows_how_to_use_it(two_days):
    widget = LabellerWidget(two_days)
    assert "slider" in HOW_TO and HOW_TO in widget.view.children[0].value  # above the controls, only where they are


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
    assert int(view.by_kind.drop(columns="kind").to_numpy().sum()) == len(log)
    assert view.headline["answer"].startswith(f"{len(log)} incidents are labelled for checkout")
    assert list(view.by_service.columns) == ["service", "incidents"] and view.by_service["incidents"].sum() == len(log)


def test_the_static_summary_says_what_was_labelled_not_how_to_label(tmp_path, monkeypatch):
    config = load_config(make_project(tmp_path / "s", days=14, services=["checkout"]))
    monkeypatch.setenv("WORKBENCH_HEADLESS", "1")
    view = labelling(config, "checkout")
    shown = []
    collect = lambda *objs, **_: shown.extend(objs)  # noqa: E731  what would be displayed, in order
    monkeypatch.setattr("IPython.display.display", collect)
    monkeypatch.setattr("workbench.workflows.label.display", collect)
    view._ipython_display_()
    assert isinstance(shown[0], dict) and HEADLINE_MIME in shown[0]  # the answer first
    assert shown[0]["text/html"].startswith("<p class='answer'><b>") and "incidents are labelled" in shown[0]["text/html"]
    text = "\n".join(obj["text/html"] if isinstance(obj, dict) else str(getattr(obj, "data", "")) for obj in shown)
    assert "slider" not in text and HOW_TO not in text
    assert "Incidents by kind and month" in text and "Incidents by service" in text
    assert "+00:00" not in text and "<th>INC" not in text and ">None<" not in text and ">nan<" not in text


def _log(*rows) -> pd.DataFrame:
    """A hand-made incident log: (service, labelled_by) per incident."""
    return pd.DataFrame({"id": [f"INC-{k}" for k in range(len(rows))], "service": [r[0] for r in rows], "labelled_by": [r[1] for r in rows]})


@pytest.mark.parametrize(
    ("log", "mine", "dismissed", "answer"),
    [
        (_log(), 0, 0, "No incidents are labelled yet; no candidates dismissed."),
        (_log(("checkout", "ana")), 1, 1, "1 incident is labelled for checkout, by ana; 1 falls in the 14 days shown; 1 candidate dismissed."),
        (_log(("checkout", "ana"), ("checkout", "")), 0, 0, "2 incidents are labelled for checkout, by ana; none fall in the 14 days shown; no candidates dismissed."),
        (_log(("checkout", ""), ("search", None)), 1, 3, "2 incidents are labelled across 2 services; 1 of checkout's falls in the 14 days shown; 3 candidates dismissed."),
        (_log(("search", "ana"), ("auth", "bo")), 0, 0, "2 incidents are labelled across 2 services, by ana and bo; checkout has none; no candidates dismissed."),
        (_log(("checkout", "a"), ("search", "b"), ("auth", "c"), ("auth", "d")), 0, 0,
         "4 incidents are labelled across 3 services, by 4 people; none of checkout's fall in the 14 days shown; no candidates dismissed."),
    ],
)
def test_labelled_answer(log, mine, dismissed, answer):
    assert labelled_answer(log, "checkout", log.head(mine), dismissed, "14 days") == answer
