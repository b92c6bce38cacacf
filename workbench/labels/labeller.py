"""One labelling session for one service and range (:class:`Labeller`): select a range,
add, edit, delete, undo, and walk the review queue of flagged windows nobody labelled.

Plain logic, no widgets and no plots: the ipywidgets layer and the flagged windows
(the rules' and the model's alerts) come from :mod:`workbench.workflows.label`, so the
labels stage never imports detection.
"""

from __future__ import annotations

import pandas as pd

from workbench._util import infer_step, to_utc
from workbench.errors import DataError, LabelError
from workbench.labels.incidents import in_range
from workbench.labels.log import IncidentLog

__all__ = ["FLAGGED_COLUMNS", "Labeller"]

#: The flagged windows a review queue walks (see :func:`workbench.workflows.label.candidates`).
FLAGGED_COLUMNS = ["start", "end", "source", "confidence", "rules"]


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
        self.flagged = flagged if flagged is not None else pd.DataFrame(columns=FLAGGED_COLUMNS)
        # The windows' own width (config.window as the data carries it).
        self.width = infer_step(windows.index)
        end = windows.index[-1]
        self.selection = (end - pd.Timedelta("1h"), end)
        self._skipped: set[pd.Timestamp] = set()

    # -- the range and the incidents in it
    def select(self, start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Set the selected range (what add, update and the plot use)."""
        try:
            start, end = to_utc(pd.Index([start, end]), what="selection")
        except DataError as exc:
            raise LabelError(str(exc)) from None
        if end <= start:
            raise LabelError("the selection must end after it starts")
        self.selection = (start, end)
        return self.selection

    def incidents(self) -> pd.DataFrame:
        """This service's labelled incidents in the range."""
        return in_range(self.log.frame(), self.service, self.windows.index[0], self.windows.index[-1] + self.width)

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
