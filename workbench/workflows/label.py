"""The 02 notebook's workflow: the incident labeller in JupyterLab, or its static summary
when ``workbench report`` runs the notebook headless (``WORKBENCH_HEADLESS=1``).

:class:`~workbench.labels.labeller.Labeller` holds the logic; :class:`LabellerWidget`
only wires ipywidgets to it. The review queue's candidates are the old rules' and the
hybrid's alerts (:func:`candidates`), computed here so that the labels stage never
imports detection.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from workbench.config import Config
from workbench.errors import DataError, LabelError
from workbench.evaluate.replay import run_service
from workbench.features.windows import to_windows
from workbench.labels.incidents import SEVERITIES, in_range, read_events
from workbench.labels.labeller import FLAGGED_COLUMNS, Labeller
from workbench.labels.log import IncidentLog
from workbench.present.headline import ANSWER, show_headline
from workbench.present.plots import metrics_timeline
from workbench.present.summaries import incident_table
from workbench.present.tables import show_table
from workbench.present.words import count, duration_words, join_words
from workbench.sources import load_service, time_range

__all__ = ["HEADLESS_ENV", "HOW_TO", "LabelSummary", "LabellerWidget", "candidates", "headless", "label_summary", "labelled_answer", "labelling"]

HEADLESS_ENV = "WORKBENCH_HEADLESS"

#: How to use the labeller: shown above its controls in JupyterLab, never in a static report.
HOW_TO = (
    "Pick a range on the slider (the dashed box on the plot), set severity and cause, and add it; "
    "edit or delete an incident by choosing it; undo takes back your last change. Every change is "
    "saved to the incident log (<code>paths.incidents</code> in workbench.yaml) at once. The review "
    "queue walks through windows the old rules or the model flagged that nobody has labelled yet: "
    "accept one as an incident or dismiss it (kept as a negative label). All times are UTC."
)


def headless() -> bool:
    """True when a report run (not a person) executes the notebook."""
    return os.environ.get(HEADLESS_ENV) == "1"


def candidates(config: Config, service: str, samples: pd.DataFrame) -> pd.DataFrame:
    """Windows the old rules or the model flag for ``service``: ``start, end, source, confidence, rules``.

    Runs the three systems for this one service (seconds) and keeps the union of
    the baseline's and the hybrid's alerts, earliest first. With too little history
    for a model (see ``model.min_train``) the queue is empty rather than an error.
    """
    incidents = IncidentLog.open(config).frame()
    events = read_events(config.path("events"))
    try:
        run = run_service(config, service, samples, incidents, events)
    except DataError:
        return pd.DataFrame(columns=FLAGGED_COLUMNS)
    both = pd.concat([run.alerts["baseline"], run.alerts["hybrid"]], ignore_index=True)
    return both[FLAGGED_COLUMNS].sort_values("start").reset_index(drop=True)


class LabellerWidget:
    """ipywidgets over a :class:`Labeller`; every button calls one Labeller method."""

    def __init__(self, labeller: Labeller):
        import ipywidgets as w

        self.labeller = labeller
        stamps = list(labeller.windows.index) + [labeller.windows.index[-1] + labeller.width]
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
                w.HTML(f"<p>{HOW_TO}</p>"),
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
                fig = self.figure()
                display(fig)
                plt.close(fig)

    def figure(self):
        """The metrics with incidents and events shaded and the selection outlined."""
        fig = metrics_timeline(self.labeller.windows, self.labeller.incidents(), self.labeller.events, title=f"{self.labeller.service}: select a range, then label it")
        for ax in fig.axes:
            ax.axvspan(*self.labeller.selection, facecolor="none", edgecolor="#000", lw=1.2, ls="--")
        return fig

    def _ipython_display_(self) -> None:
        display(self.view)


def _labellers(log: pd.DataFrame) -> list[str]:
    """Who labelled the incidents of ``log``, by name, sorted (blank names left out)."""
    return sorted(set(log["labelled_by"].fillna("").astype(str).str.strip()) - {""})


def labelled_answer(log: pd.DataFrame, service: str, mine: pd.DataFrame, dismissed: int, shown: str) -> str:
    """What the labels amount to, in one sentence: "35 incidents are labelled across 6 services,
    by sample-generator; 4 of checkout's fall in the 14 days shown; no candidates dismissed."

    ``log`` is the whole incident log, ``mine`` the service's incidents in the range shown,
    ``dismissed`` the number of dismissed candidates and ``shown`` the range in words.
    """
    dismissals = f"{count(dismissed, 'candidate')} dismissed"
    if log.empty:
        return f"No incidents are labelled yet; {dismissals}."
    services = sorted(log["service"].unique())
    verb = "is" if len(log) == 1 else "are"
    where = f"for {services[0]}" if len(services) == 1 else f"across {len(services)} services"
    names = _labellers(log)
    by = f", by {join_words(names)}" if 0 < len(names) <= 3 else f", by {len(names)} people" if names else ""
    falls = "falls" if len(mine) == 1 else "fall"
    if services == [service]:
        in_range = f"{len(mine) or 'none'} {falls} in the {shown} shown"
    elif not (log["service"] == service).any():
        in_range = f"{service} has none"
    else:
        in_range = f"{len(mine) or 'none'} of {service}'s {falls} in the {shown} shown"
    return f"{count(len(log), 'incident')} {verb} labelled {where}{by}; {in_range}; {dismissals}."


def label_summary(config: Config, service: str, windows: pd.DataFrame) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What a report shows instead of the labeller: headline (its ``answer`` sentence and
    counts), incidents by kind and month, incidents per configured service, and the
    service's incidents in the range shown (as the log holds them).

    The tables have plain column names and no index.
    """
    labels = IncidentLog.open(config)
    log = labels.frame()
    by_kind = pd.DataFrame(columns=["kind"])
    if not log.empty:
        kind = log["cause"].str.split(":").str[0].str.strip().str.replace("_", " ")
        by_kind = log.assign(kind=kind, month=log["start"].dt.strftime("%Y-%m")).pivot_table(
            index="kind", columns="month", values="id", aggfunc="count", fill_value=0
        ).rename_axis(columns=None).reset_index()
    dismissed = labels.dismissed()
    width = windows.index[1] - windows.index[0] if len(windows) > 1 else pd.Timedelta(config.window)
    shown = duration_words((windows.index[-1] + width - windows.index[0]) / pd.Timedelta(minutes=1))
    mine = in_range(log, service, windows.index[0], windows.index[-1])
    names = _labellers(log)
    headline = {
        ANSWER: labelled_answer(log, service, mine, len(dismissed), shown),
        "incidents labelled": int(len(log)),
        "services": int(log["service"].nunique()),
        f"{service} incidents in range": int(len(mine)),
        "dismissed candidates": int(len(dismissed)),
        "labelled by": ", ".join(names) or "nobody named",
    }
    services = sorted(set(config.services) | set(log["service"]))
    counts = log.groupby("service")["id"].count().reindex(services, fill_value=0)
    by_service = pd.DataFrame({"service": services, "incidents": counts.to_numpy()})
    return headline, by_kind, by_service, mine


class LabelSummary:
    """What a headless report shows instead of the labeller; computed when built.

    Attributes: ``headline`` (the answer sentence and counts), ``by_kind`` (incidents by
    kind and month), ``by_service``, ``incidents`` (this service's, in the range shown)
    and ``scope`` (what the report covers, in words).
    """

    def __init__(self, config: Config, service: str, windows: pd.DataFrame, events: pd.DataFrame) -> None:
        self.service, self.windows, self.events = service, windows, events
        self.headline, self.by_kind, self.by_service, self.incidents = label_summary(config, service, windows)
        self.scope = f"all labels, and {service} from {windows.index[0]:%Y-%m-%d} to {windows.index[-1]:%Y-%m-%d} (UTC)"

    def _ipython_display_(self) -> None:
        show_headline(self.headline, scope=self.scope)
        fig = metrics_timeline(self.windows, self.incidents, self.events, title=f"{self.service}: labelled incidents (red) and events")
        display(fig)
        plt.close(fig)
        display(Markdown(f"### {self.service}'s incidents in the range shown"))
        show_table(incident_table(self.incidents), empty=f"No labelled incidents of {self.service} in this range.")
        display(Markdown("### Incidents by kind and month"))
        show_table(self.by_kind, empty="No incidents labelled yet.")
        display(Markdown("### Incidents by service"))
        show_table(self.by_service, empty="No services configured.")


def labelling(config: Config, service: str, source: str = "", start: str = "", end: str = ""):
    """The labeller for ``service`` in JupyterLab, or its static summary in a headless report.

    ``start`` empty means 14 days before ``end``; ``end`` empty means the end of the
    data. Display the returned object (make it the cell's last expression).
    """
    config.check_service(service)
    lo, hi = time_range(start, end)
    # The whole history: the model behind the review queue needs weeks of it.
    samples = load_service(config, service, source=source, end=hi)
    lo = lo if lo is not None else samples.index[-1] - pd.Timedelta(days=14)
    windows = to_windows(samples[samples.index >= lo], config.window, config.max_fill)
    events = in_range(read_events(config.path("events")), service, windows.index[0], windows.index[-1])
    if headless():
        return LabelSummary(config, service, windows, events)
    flagged = candidates(config, service, samples)
    flagged = flagged[flagged["end"] > windows.index[0]].reset_index(drop=True)
    return LabellerWidget(Labeller(IncidentLog.open(config), service, windows, events, flagged))
