"""The incident log on disk, edited one validated action at a time (:class:`IncidentLog`),
with the dismissed candidates kept beside it as negative labels.

Several people label at once (two notebooks, a colleague's session): every action reads
the file, changes it and writes it back **under the log's lock**, so no two writers
interleave and none loses the other's edit. Every write is atomic (a temporary file, then
a rename), so a crash never leaves a half-written log. Undo takes back one's own last
action only, row by row, and refuses when someone else has changed those rows since.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench._util import exclusive_lock, to_utc
from workbench.contracts import INCIDENT_COLUMNS
from workbench.errors import DataError, LabelError
from workbench.labels.incidents import (
    SEVERITIES,
    overlaps,
    read_csv_checked,
    read_incidents,
    write_csv,
)

__all__ = ["DISMISSED_COLUMNS", "IncidentLog"]

DISMISSED_COLUMNS = ["service", "start", "end", "reason", "dismissed_by"]


@dataclass
class _Action:
    """One action, as the rows it took out of a file and the rows it put in (for undo)."""

    what: str
    path: Path
    removed: Counter
    added: Counter
    created: bool  # the action created the file


def _rows(frame: pd.DataFrame) -> Counter:
    """The rows of ``frame`` as text tuples, as they are written (a multiset: rows may repeat)."""
    out = frame.copy()
    for col in ("start", "end"):
        if col in out and len(out):
            out[col] = to_utc(out[col], what=col).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Counter(tuple(str(v) for v in row) for row in out.itertuples(index=False))


def _stamp(value, what: str) -> pd.Timestamp:
    try:
        return to_utc(pd.Index([value]), what=what)[0]
    except DataError as exc:
        raise LabelError(str(exc)) from None


class IncidentLog:
    """The incident log on disk, edited one validated action at a time.

    Every action reads the file as it is now, under the log's lock (another session's
    edits are never overwritten), is checked against the whole log (known service, end
    after start, no two incidents of a service overlapping, a known severity), written
    at once with an atomic rename, and remembered as the rows it changed so :meth:`undo`
    takes back this session's action and nobody else's. Ids are stable: ``INC-0042``
    keeps its id through edits, and a new incident takes the next free number.
    Dismissed candidates (windows a reviewer said were not incidents) are kept in a
    second file as negative labels.

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
        self._history: list[_Action] = []
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

    @contextlib.contextmanager
    def _locked(self):
        """Held around each read-change-write: another session's action waits for this one."""
        with exclusive_lock(self.path.with_name(f".{self.path.name}.lock")):
            yield

    def _check(self, frame: pd.DataFrame, touched: pd.DataFrame | None = None) -> None:
        """The labeller's rules; an unknown service is refused only in the rows this action wrote."""
        if self.services is not None:
            rows = frame if touched is None else touched
            unknown = sorted(set(rows["service"]) - set(self.services))
            if unknown:
                raise LabelError(f"unknown service(s) {unknown}; configured: {', '.join(self.services)}")
        bad = sorted(set(frame["severity"]) - set(SEVERITIES))
        if bad:
            raise LabelError(f"unknown severity {bad}; choose one of {list(SEVERITIES)}")
        backwards = frame[frame["end"] <= frame["start"]]
        if not backwards.empty:
            raise LabelError(f"{', '.join(backwards['id'])}: end must be after start")
        dupes = sorted(frame.loc[frame["id"].duplicated(), "id"].unique())
        if dupes:
            raise LabelError(f"incident ids {dupes} are taken twice")
        clashes = overlaps(frame)
        if clashes:
            service, a, b = clashes[0]
            raise LabelError(f"{service}: {a} and {b} overlap; an incident window must not overlap another")

    def _save(self, path: Path, before: pd.DataFrame, after: pd.DataFrame, what: str) -> None:
        created = not path.exists()
        write_csv(after, path)
        old, new = _rows(before), _rows(after)
        self._history.append(_Action(what, path, old - new, new - old, created))

    def _next_id(self, frame: pd.DataFrame) -> str:
        numbers = frame["id"].str.extract(r"(\d+)$")[0].dropna().astype(int)
        return f"INC-{(numbers.max() + 1 if len(numbers) else 1):04d}"

    def add(self, service: str, start, end, severity: str, cause: str, resolution: str = "", labelled_by: str = "") -> str:
        """Add an incident; returns its new id."""
        row = {
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
        with self._locked():
            frame = self.frame()
            new = pd.DataFrame([{"id": self._next_id(frame), **row}])[INCIDENT_COLUMNS]
            updated = pd.concat([frame, new], ignore_index=True).sort_values("start", kind="stable")
            self._check(updated, new)
            self._save(self.path, frame, updated, f"add {new['id'].iloc[0]}")
        return new["id"].iloc[0]

    def edit(self, incident_id: str, **changes) -> None:
        """Change fields of one incident (``start``, ``end``, ``severity``, ``cause`` ...)."""
        unknown = sorted(set(changes) - set(INCIDENT_COLUMNS[1:]))
        if unknown:
            raise LabelError(f"cannot edit {unknown}; editable: {INCIDENT_COLUMNS[1:]}")
        with self._locked():
            frame = self.frame()
            if incident_id not in set(frame["id"]):
                raise LabelError(f"no incident {incident_id!r} (deleted by someone else? reload the log)")
            updated = frame.copy()
            at = updated.index[updated["id"] == incident_id][0]
            for key, value in changes.items():
                updated.at[at, key] = _stamp(value, key) if key in ("start", "end") else str(value).strip()
            self._check(updated, updated.loc[[at]])
            self._save(self.path, frame, updated.sort_values("start", kind="stable"), f"edit {incident_id}")

    def delete(self, incident_id: str) -> None:
        """Remove one incident."""
        with self._locked():
            frame = self.frame()
            if incident_id not in set(frame["id"]):
                raise LabelError(f"no incident {incident_id!r} (deleted by someone else? reload the log)")
            self._save(self.path, frame, frame[frame["id"] != incident_id], f"delete {incident_id}")

    def dismiss(self, service: str, start, end, reason: str, dismissed_by: str = "") -> None:
        """Record a candidate window as not an incident (a negative label)."""
        if self.services is not None and service not in self.services:
            raise LabelError(f"unknown service {service!r}")
        row = {"service": service, "start": _stamp(start, "start"), "end": _stamp(end, "end"), "reason": reason.strip(), "dismissed_by": dismissed_by.strip()}
        if row["end"] <= row["start"]:
            raise LabelError("end must be after start")
        with self._locked():
            before = self.dismissed()
            after = pd.concat([before, pd.DataFrame([row])], ignore_index=True)
            self._save(self.dismissed_path, before, after, f"dismiss {service} {row['start']:%Y-%m-%d %H:%M}")

    def merge(self, other: pd.DataFrame, labelled_by: str = "") -> list[str]:
        """Add another log's incidents (e.g. a colleague's) under new ids; returns them.

        Rows identical in service, start and end to one already here are skipped.
        """
        with self._locked():
            before = self.frame()
            frame = before
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
            self._check(frame, frame[frame["id"].isin(added)])
            if added:
                self._save(self.path, before, frame, f"merge {len(added)} incidents")
        return added

    def undo(self) -> str:
        """Take back this session's last action (not anyone else's); returns what was undone.

        The rows the action wrote are taken out and the rows it replaced put back, in the
        file as it is now: a colleague's later edits elsewhere stay.

        Raises
        ------
        LabelError
            Nothing to undo; or someone else has changed or removed a row this action
            wrote, or the result would break the log (an id taken again, an overlap):
            nothing is written, and the message says to reload.
        """
        if not self._history:
            raise LabelError("nothing to undo")
        action = self._history[-1]
        incidents = action.path == self.path
        with self._locked():
            now = self.frame() if incidents else self.dismissed()
            rows = _rows(now)
            if action.added - rows:
                raise LabelError(
                    f"cannot undo {action.what}: someone else has changed or removed what it wrote since; "
                    "reload the log and change it by hand"
                )
            kept = rows - action.added + action.removed
            after = pd.DataFrame(list(kept.elements()), columns=now.columns)
            for col in ("start", "end"):
                after[col] = to_utc(after[col], what=col)
            after = after.sort_values("start", kind="stable")
            if incidents:
                try:
                    self._check(after, after.iloc[:0])
                except LabelError as exc:
                    raise LabelError(f"cannot undo {action.what}: {exc} (changed by someone else since; reload the log)") from None
            if action.created and after.empty:
                action.path.unlink(missing_ok=True)  # as it was: no file
            else:
                write_csv(after, action.path)
        self._history.pop()
        return action.what
