"""The incident log on disk, edited one validated action at a time (:class:`IncidentLog`),
with the dismissed candidates kept beside it as negative labels.

Every write is atomic (a temporary file, then a rename), so a crash never leaves a
half-written log.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench._util import atomic_write_text, to_utc
from workbench.contracts import INCIDENT_COLUMNS
from workbench.errors import DataError, LabelError
from workbench.labels.incidents import (
    SEVERITIES,
    read_csv_checked,
    read_incidents,
    write_csv,
)

__all__ = ["DISMISSED_COLUMNS", "IncidentLog"]

DISMISSED_COLUMNS = ["service", "start", "end", "reason", "dismissed_by"]


def _stamp(value, what: str) -> pd.Timestamp:
    try:
        return to_utc(pd.Index([value]), what=what)[0]
    except DataError as exc:
        raise LabelError(str(exc)) from None


class IncidentLog:
    """The incident log on disk, edited one validated action at a time.

    Every action is checked against the whole log (known service, end after start,
    no two incidents of a service overlapping, a known severity), written at once
    with an atomic rename, and remembered so :meth:`undo` can put back the exact
    previous file. Ids are stable: ``INC-0042`` keeps its id through edits, and a
    new incident takes the next free number. Dismissed candidates (windows a
    reviewer said were not incidents) are kept in a second file as negative labels.

    Parameters
    ----------
    path
        The incident CSV (created on the first action if absent).
    services
        Allowed service names; ``None`` accepts any.
    dismissed_path
        Where dismissed candidates go; default ``dismissed.csv`` beside ``path``.
    """

    def __init__(self, path, services: list[str] | None = None, dismissed_path=None):
        self.path = Path(path)
        self.services = list(services) if services is not None else None
        self.dismissed_path = Path(dismissed_path) if dismissed_path else self.path.with_name("dismissed.csv")
        self._history: list[tuple[str, Path, str | None]] = []
        self.frame()  # a corrupt file is an error now, not at the first edit

    @classmethod
    def open(cls, config) -> IncidentLog:
        """The configured log (``paths.incidents``) for the configured services."""
        return cls(config.path("incidents"), list(config.services), config.path("data") / "dismissed.csv")

    def frame(self) -> pd.DataFrame:
        """The log as it is on disk now."""
        if not self.path.exists():
            return pd.DataFrame(columns=INCIDENT_COLUMNS)
        return read_incidents(self.path)

    def dismissed(self) -> pd.DataFrame:
        """Windows reviewers marked as not an incident."""
        if not self.dismissed_path.exists():
            return pd.DataFrame(columns=DISMISSED_COLUMNS)
        return read_csv_checked(self.dismissed_path, DISMISSED_COLUMNS, "dismissed candidates")

    def _check(self, frame: pd.DataFrame) -> None:
        if self.services is not None:
            unknown = sorted(set(frame["service"]) - set(self.services))
            if unknown:
                raise LabelError(f"unknown service(s) {unknown}; configured: {', '.join(self.services)}")
        bad = sorted(set(frame["severity"]) - set(SEVERITIES))
        if bad:
            raise LabelError(f"unknown severity {bad}; choose one of {list(SEVERITIES)}")
        backwards = frame[frame["end"] <= frame["start"]]
        if not backwards.empty:
            raise LabelError(f"{', '.join(backwards['id'])}: end must be after start")
        for service, rows in frame.sort_values("start").groupby("service"):
            clash = rows["start"].iloc[1:].to_numpy() < rows["end"].iloc[:-1].to_numpy()
            if clash.any():
                k = int(np.flatnonzero(clash)[0])
                raise LabelError(f"{service}: {rows['id'].iloc[k]} and {rows['id'].iloc[k + 1]} overlap; an incident window must not overlap another")

    def _save(self, path: Path, frame: pd.DataFrame, what: str) -> None:
        before = path.read_text() if path.exists() else None
        write_csv(frame, path)
        self._history.append((what, path, before))

    def _next_id(self, frame: pd.DataFrame) -> str:
        numbers = frame["id"].str.extract(r"(\d+)$")[0].dropna().astype(int)
        return f"INC-{(numbers.max() + 1 if len(numbers) else 1):04d}"

    def add(self, service: str, start, end, severity: str, cause: str, resolution: str = "", labelled_by: str = "") -> str:
        """Add an incident; returns its new id."""
        frame = self.frame()
        new_id = self._next_id(frame)
        row = {
            "id": new_id,
            "service": service,
            "start": _stamp(start, "start"),
            "end": _stamp(end, "end"),
            "severity": severity,
            "cause": cause.strip(),
            "resolution": resolution.strip(),
            "labelled_by": labelled_by.strip(),
        }
        if not row["cause"]:
            raise LabelError("a cause is needed (what broke, in a few words)")
        updated = pd.concat([frame, pd.DataFrame([row])], ignore_index=True).sort_values("start", kind="stable")
        self._check(updated)
        self._save(self.path, updated, f"add {new_id}")
        return new_id

    def edit(self, incident_id: str, **changes) -> None:
        """Change fields of one incident (``start``, ``end``, ``severity``, ``cause`` ...)."""
        frame = self.frame()
        if incident_id not in set(frame["id"]):
            raise LabelError(f"no incident {incident_id!r}")
        unknown = sorted(set(changes) - set(INCIDENT_COLUMNS[1:]))
        if unknown:
            raise LabelError(f"cannot edit {unknown}; editable: {INCIDENT_COLUMNS[1:]}")
        at = frame.index[frame["id"] == incident_id][0]
        for key, value in changes.items():
            frame.at[at, key] = _stamp(value, key) if key in ("start", "end") else str(value).strip()
        self._check(frame)
        self._save(self.path, frame.sort_values("start", kind="stable"), f"edit {incident_id}")

    def delete(self, incident_id: str) -> None:
        """Remove one incident."""
        frame = self.frame()
        if incident_id not in set(frame["id"]):
            raise LabelError(f"no incident {incident_id!r}")
        self._save(self.path, frame[frame["id"] != incident_id], f"delete {incident_id}")

    def dismiss(self, service: str, start, end, reason: str, dismissed_by: str = "") -> None:
        """Record a candidate window as not an incident (a negative label)."""
        if self.services is not None and service not in self.services:
            raise LabelError(f"unknown service {service!r}")
        row = {"service": service, "start": _stamp(start, "start"), "end": _stamp(end, "end"), "reason": reason.strip(), "dismissed_by": dismissed_by.strip()}
        if row["end"] <= row["start"]:
            raise LabelError("end must be after start")
        frame = pd.concat([self.dismissed(), pd.DataFrame([row])], ignore_index=True)
        self._save(self.dismissed_path, frame, f"dismiss {service} {row['start']:%Y-%m-%d %H:%M}")

    def merge(self, other: pd.DataFrame, labelled_by: str = "") -> list[str]:
        """Add another log's incidents (e.g. a colleague's) under new ids; returns them.

        Rows identical in service, start and end to one already here are skipped.
        """
        frame = self.frame()
        have = set(zip(frame["service"], frame["start"], frame["end"]))
        added = []
        for row in other.itertuples():
            if (row.service, row.start, row.end) in have:
                continue
            new_id = self._next_id(frame)
            entry = {c: getattr(row, c) for c in INCIDENT_COLUMNS if c != "id"}
            entry["id"] = new_id
            if labelled_by:
                entry["labelled_by"] = labelled_by
            frame = pd.concat([frame, pd.DataFrame([entry])], ignore_index=True)
            added.append(new_id)
        frame = frame.sort_values("start", kind="stable")
        self._check(frame)
        if added:
            self._save(self.path, frame, f"merge {len(added)} incidents")
        return added

    def undo(self) -> str:
        """Put back the file as it was before the last action; returns what was undone."""
        if not self._history:
            raise LabelError("nothing to undo")
        what, path, before = self._history.pop()
        if before is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write_text(path, before)
        return what
