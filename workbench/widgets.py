"""The incident labeller: plain classes with the logic, a thin ipywidgets layer over them.

:class:`Labeller` holds everything a labelling session does (select a range, add,
edit, delete, undo, walk the review queue) and is what the tests drive.
:class:`LabellerWidget` only wires widgets to it. :func:`labelling` is what the
notebook calls: interactive in JupyterLab, a static summary when ``workbench
report`` runs the notebook headless (``WORKBENCH_HEADLESS=1``).
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from workbench.config import Config
from workbench.features import to_windows
from workbench.incidents import SEVERITIES, IncidentLog, LabelError, in_range, read_events
from workbench.plots import metrics_timeline

__all__ = ["Labeller", "LabellerWidget", "candidates", "headless", "labelling", "label_summary"]

HEADLESS_ENV = "WORKBENCH_HEADLESS"


def headless() -> bool:
    """True when a report run (not a person) executes the notebook."""
    return os.environ.get(HEADLESS_ENV) == "1"


def candidates(config: Config, service: str, samples: pd.DataFrame) -> pd.DataFrame:
    """Windows the old rules or the model flag for ``service``: ``start, end, source, confidence, rules``.

    Runs the three systems for this one service (seconds) and keeps the union of
    the baseline's and the hybrid's alerts, earliest first. With too little history
    for a model (see ``model.min_train``) the queue is empty rather than an error.
    """
    from workbench.frames import DataError
    from workbench.hybrid import run_service

    incidents = IncidentLog.open(config).frame()
    events = read_events(config.path("events"))
    try:
        run = run_service(config, service, samples, incidents, events)
    except DataError:
        return pd.DataFrame(columns=["start", "end", "source", "confidence", "rules"])
    both = pd.concat([run.alerts["baseline"], run.alerts["hybrid"]], ignore_index=True)
    return both[["start", "end", "source", "confidence", "rules"]].sort_values("start").reset_index(drop=True)


class Labeller:
    """One labelling session for one service and time range.

    Parameters
    ----------
    log
        The incident log to edit (every change is saved at once).
    service
        The service being labelled.
    windows
        Its windowed metrics for the range (what the plot shows).
    events
        Events calendar rows for the service (shaded on the plot).
    flagged
        Candidate windows (see :func:`candidates`); the review queue is those not yet
        labelled or dismissed.
    """

    def __init__(self, log: IncidentLog, service: str, windows: pd.DataFrame, events: pd.DataFrame, flagged: pd.DataFrame | None = None):
        self.log = log
        self.service = service
        self.windows = windows
        self.events = events
        self.flagged = flagged if flagged is not None else pd.DataFrame(columns=["start", "end", "source", "confidence", "rules"])
        end = windows.index[-1]
        self.selection = (end - pd.Timedelta("1h"), end)
        self._skipped: set[pd.Timestamp] = set()

    # -- the range and the incidents in it
    def select(self, start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Set the selected range (what add, update and the plot use)."""
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
        if end <= start:
            raise LabelError("the selection must end after it starts")
        self.selection = (start, end)
        return self.selection

    def incidents(self) -> pd.DataFrame:
        """This service's labelled incidents in the range."""
        return in_range(self.log.frame(), self.service, self.windows.index[0], self.windows.index[-1] + pd.Timedelta("15min"))

    # -- actions (each saved at once)
    def add(self, severity: str, cause: str, resolution: str = "", labelled_by: str = "") -> str:
        """Label the selection as an incident; returns its id."""
        return self.log.add(self.service, *self.selection, severity, cause, resolution, labelled_by)

    def update(self, incident_id: str, use_selection: bool = True, **fields) -> None:
        """Change an incident: its window becomes the selection (unless told not to) and any given fields."""
        if use_selection:
            fields = {"start": self.selection[0], "end": self.selection[1], **fields}
        self.log.edit(incident_id, **{k: v for k, v in fields.items() if v not in (None, "")})

    def delete(self, incident_id: str) -> None:
        self.log.delete(incident_id)

    def undo(self) -> str:
        return self.log.undo()

    # -- the review queue
    def queue(self) -> pd.DataFrame:
        """Flagged windows nobody has labelled or dismissed yet (skipped ones last)."""
        if self.flagged.empty:
            return self.flagged
        labelled = self.log.frame()
        labelled = labelled[labelled["service"] == self.service]
        dismissed = self.log.dismissed()
        dismissed = dismissed[dismissed["service"] == self.service]

        def open_(row) -> bool:
            for known in (labelled, dismissed):
                if ((known["start"] < row.end) & (known["end"] > row.start)).any():
                    return False
            return True

        keep = self.flagged[[open_(r) for r in self.flagged.itertuples()]]
        return keep.assign(_skipped=keep["start"].isin(self._skipped)).sort_values(["_skipped", "start"]).drop(columns="_skipped")

    def current(self) -> pd.Series | None:
        """The candidate under review, or ``None`` when the queue is empty."""
        queue = self.queue()
        if queue.empty:
            return None
        row = queue.iloc[0]
        self.select(row["start"], row["end"])
        return row

    def accept(self, severity: str, cause: str, labelled_by: str = "") -> str:
        """Label the current candidate as an incident."""
        row = self.current()
        if row is None:
            raise LabelError("the review queue is empty")
        return self.log.add(self.service, row["start"], row["end"], severity, cause, "", labelled_by)

    def dismiss(self, reason: str, dismissed_by: str = "") -> None:
        """Mark the current candidate as not an incident."""
        row = self.current()
        if row is None:
            raise LabelError("the review queue is empty")
        self.log.dismiss(self.service, row["start"], row["end"], reason or "not an incident", dismissed_by)

    def skip(self) -> None:
        """Look at the current candidate later."""
        row = self.current()
        if row is not None:
            self._skipped.add(row["start"])

    def figure(self):
        """The metrics with incidents and events shaded and the selection outlined."""
        fig = metrics_timeline(self.windows, self.incidents(), self.events, title=f"{self.service}: select a range, then label it")
        for ax in fig.axes:
            ax.axvspan(*self.selection, facecolor="none", edgecolor="#000", lw=1.2, ls="--")
        return fig


class LabellerWidget:
    """ipywidgets over a :class:`Labeller`; every button calls one Labeller method."""

    def __init__(self, labeller: Labeller):
        import ipywidgets as w

        self.labeller = labeller
        stamps = list(labeller.windows.index) + [labeller.windows.index[-1] + pd.Timedelta("15min")]
        self.range = w.SelectionRangeSlider(
            options=[(f"{t:%a %d %b %H:%M}", t) for t in stamps],
            index=(stamps.index(labeller.windows.index[-4]) if len(stamps) > 4 else 0, len(stamps) - 1),
            description="range",
            layout=w.Layout(width="95%"),
        )
        self.severity = w.Dropdown(options=list(SEVERITIES), value="major", description="severity")
        self.cause = w.Text(description="cause", placeholder="what broke, in a few words")
        self.resolution = w.Text(description="resolution")
        self.who = w.Text(description="labelled by", value=os.environ.get("USER", ""))
        self.incident = w.Dropdown(description="incident", options=[])
        self.add_button = w.Button(description="Add incident", button_style="success")
        self.update_button = w.Button(description="Update incident")
        self.delete_button = w.Button(description="Delete incident", button_style="danger")
        self.undo_button = w.Button(description="Undo")
        self.reason = w.Text(description="reason", placeholder="why it is not an incident")
        self.review = w.HTML()
        self.accept_button = w.Button(description="Accept as incident", button_style="success")
        self.dismiss_button = w.Button(description="Dismiss")
        self.skip_button = w.Button(description="Skip")
        self.status = w.HTML()
        self.plot = w.Output()
        self.range.observe(self._on_range, names="value")
        for button, action in (
            (self.add_button, self._add),
            (self.update_button, self._update),
            (self.delete_button, self._delete),
            (self.undo_button, self._undo),
            (self.accept_button, self._accept),
            (self.dismiss_button, self._dismiss),
            (self.skip_button, self._skip),
        ):
            button.on_click(lambda _b, act=action: self._run(act))
        self.view = w.VBox(
            [
                self.plot,
                self.range,
                w.HBox([self.severity, self.cause]),
                w.HBox([self.resolution, self.who]),
                w.HBox([self.add_button, self.incident, self.update_button, self.delete_button, self.undo_button]),
                w.HTML("<b>Review queue</b>: windows the rules or the model flagged that nobody labelled yet"),
                self.review,
                w.HBox([self.accept_button, self.reason, self.dismiss_button, self.skip_button]),
                self.status,
            ]
        )
        self.labeller.select(*self.range.value)
        self._refresh("ready")

    def _on_range(self, change) -> None:
        self._run(lambda: self._select(change["new"]))

    def _select(self, value) -> None:
        self.labeller.select(*value)

    def _add(self) -> str:
        return f"added {self.labeller.add(self.severity.value, self.cause.value, self.resolution.value, self.who.value)}"

    def _update(self) -> str:
        if not self.incident.value:
            raise LabelError("pick an incident to update")
        self.labeller.update(self.incident.value, severity=self.severity.value, cause=self.cause.value, resolution=self.resolution.value)
        return f"updated {self.incident.value}"

    def _delete(self) -> str:
        if not self.incident.value:
            raise LabelError("pick an incident to delete")
        self.labeller.delete(self.incident.value)
        return f"deleted {self.incident.value}"

    def _undo(self) -> str:
        return f"undid {self.labeller.undo()}"

    def _accept(self) -> str:
        return f"accepted as {self.labeller.accept(self.severity.value, self.cause.value, self.who.value)}"

    def _dismiss(self) -> str:
        self.labeller.dismiss(self.reason.value, self.who.value)
        return "dismissed"

    def _skip(self) -> str:
        self.labeller.skip()
        return "skipped"

    def _run(self, action, redraw: bool = True) -> None:
        try:
            message = action()
        except LabelError as exc:
            self.status.value = f"<span style='color:#cf222e'>{exc}</span>"
            return
        self._refresh(message, redraw)

    def _refresh(self, message: str | None, redraw: bool = True) -> None:
        ids = self.labeller.incidents()["id"].tolist()
        self.incident.options = ids
        self.incident.value = ids[-1] if ids else None
        row = self.labeller.queue()
        if row.empty:
            self.review.value = "<i>nothing left to review</i>"
        else:
            first = row.iloc[0]
            conf = f", confidence {first['confidence']:.0f}" if pd.notna(first["confidence"]) else ""
            rules = f", rules {first['rules']}" if first["rules"] else ""
            self.review.value = f"{len(row)} to review; next: {first['start']:%a %d %b %H:%M} to {first['end']:%H:%M} ({first['source']}{conf}{rules})"
        if message:
            self.status.value = f"<span style='color:#1a7f37'>{message}</span> · saved to {self.labeller.log.path.name}"
        if redraw:
            self.plot.clear_output(wait=True)
            with self.plot:
                fig = self.labeller.figure()
                display(fig)
                plt.close(fig)

    def _ipython_display_(self) -> None:
        display(self.view)


def label_summary(config: Config, service: str, windows: pd.DataFrame) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """What a report shows instead of the labeller: headline counts, incidents by kind and month, the log."""
    labels = IncidentLog.open(config)
    log = labels.frame()
    kind = log["cause"].str.split(":").str[0].str.strip()
    table = log.assign(kind=kind, month=log["start"].dt.strftime("%Y-%m")).pivot_table(
        index="kind", columns="month", values="id", aggfunc="count", fill_value=0
    )
    dismissed = labels.dismissed()
    mine = in_range(log, service, windows.index[0], windows.index[-1])
    headline = {
        "incidents labelled": int(len(log)),
        "services": int(log["service"].nunique()),
        f"{service} incidents in range": int(len(mine)),
        "dismissed candidates": int(len(dismissed)),
        "labelled by": ", ".join(sorted(set(log["labelled_by"]) - {""})) or "-",
    }
    by_service = log.groupby("service")["id"].count().rename("incidents").to_frame()
    return headline, table, by_service


class _Summary:
    def __init__(self, config, service, windows, events):
        self.args = (config, service, windows, events)

    def _ipython_display_(self) -> None:
        from workbench.headline import show_headline

        config, service, windows, events = self.args
        headline, by_kind, by_service = label_summary(config, service, windows)
        show_headline(headline, by_kind)
        display(by_service)
        incidents = in_range(IncidentLog.open(config).frame(), service, windows.index[0], windows.index[-1])
        fig = metrics_timeline(windows, incidents, events, title=f"{service}: labelled incidents (red) and events")
        display(fig)
        plt.close(fig)


def labelling(config: Config, service: str, source: str = "", start: str = "", end: str = ""):
    """The labeller for ``service`` in JupyterLab, or its static summary in a headless report.

    ``start`` empty means 14 days before ``end``; ``end`` empty means the end of the
    data. Display the returned object (make it the cell's last expression).
    """
    from workbench.sources import load_service

    from workbench.sources import time_range

    config.check_service(service)
    lo, hi = time_range(start, end)
    # The whole history: the model behind the review queue needs weeks of it.
    samples = load_service(config, service, source=source, end=hi)
    lo = lo if lo is not None else samples.index[-1] - pd.Timedelta(days=14)
    windows = to_windows(samples[samples.index >= lo], config.window, config.max_fill)
    events = in_range(read_events(config.path("events")), service, windows.index[0], windows.index[-1])
    if headless():
        return _Summary(config, service, windows, events)
    flagged = candidates(config, service, samples)
    flagged = flagged[flagged["end"] > windows.index[0]].reset_index(drop=True)
    return LabellerWidget(Labeller(IncidentLog.open(config), service, windows, events, flagged))
