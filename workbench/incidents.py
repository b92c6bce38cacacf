"""The incident log and the events calendar: read, validate, select, write.

Both are small CSV files a team keeps in git (``data/incidents.csv``,
``data/events.csv``). Times are ISO 8601; tz-naive times are taken as UTC.
Writes go to a temporary file that is then renamed, so a crash never leaves a
half-written log.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.frames import EVENT_COLUMNS, INCIDENT_COLUMNS, DataError, as_utc

__all__ = [
    "DISMISSED_COLUMNS",
    "SEVERITIES",
    "IncidentLog",
    "LabelError",
    "in_range",
    "load_labels",
    "read_events",
    "read_incidents",
    "write_csv",
]

SEVERITIES = ("critical", "major", "minor")


def _read(path: Path, columns: list[str], what: str) -> pd.DataFrame:
    if not Path(path).is_file():
        raise DataError(f"{what} file not found: {path}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing}; expected {columns}")
    frame = frame[columns].copy()
    for col in ("start", "end"):
        frame[col] = as_utc(frame[col], what=f"{path}: {col}")
    backwards = frame["end"] <= frame["start"]
    if backwards.any():
        rows = (frame.index[backwards] + 2).tolist()  # +2: header line, 1-based lines
        raise DataError(f"{path}: end is not after start on lines {rows}")
    return frame.sort_values("start", kind="stable").reset_index(drop=True)


def read_incidents(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate the incident log.

    Raises
    ------
    DataError
        Missing file or columns, unparseable times, end not after start,
        duplicate ids, or an unknown severity.
    """
    frame = _read(Path(path), INCIDENT_COLUMNS, "incident log")
    dupes = sorted(frame.loc[frame["id"].duplicated(), "id"].unique())
    if dupes:
        raise DataError(f"{path}: duplicate incident ids {dupes}")
    bad = sorted(set(frame["severity"]) - set(SEVERITIES))
    if bad:
        raise DataError(f"{path}: unknown severities {bad}; expected one of {list(SEVERITIES)}")
    return frame


def read_events(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate the events calendar (deploys, campaigns, maintenance ...)."""
    frame = _read(Path(path), EVENT_COLUMNS, "events calendar")
    empty = frame["type"].str.strip() == ""
    if empty.any():
        raise DataError(f"{path}: events without a type on lines {(frame.index[empty] + 2).tolist()}")
    return frame


def in_range(frame: pd.DataFrame, service: str | None, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Rows overlapping ``[start, end)`` for ``service`` (rows for ``*`` apply to every service)."""
    hit = (frame["start"] < end) & (frame["end"] > start)
    if service is not None:
        hit &= frame["service"].isin([service, "*"])
    return frame[hit].reset_index(drop=True)


def load_labels(config, service: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The configured incident log and events calendar, limited to ``service`` and ``[start, end]``."""
    incidents = read_incidents(config.path("incidents"))
    events = read_events(config.path("events"))
    return in_range(incidents, service, start, end), in_range(events, service, start, end)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` as CSV atomically (temporary file in the same folder, then rename)."""
    out = frame.copy()
    for col in ("start", "end"):
        if col in out and len(out):
            out[col] = as_utc(out[col], what=col).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    _write_text(Path(path), out.to_csv(index=False))


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); a shared log should follow the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the editable log -------------------------------------------------------------------------

DISMISSED_COLUMNS = ["service", "start", "end", "reason", "dismissed_by"]


class LabelError(DataError):
    """A labelling action that would make the log invalid; the log on disk is unchanged."""


def _stamp(value, what: str) -> pd.Timestamp:
    try:
        return as_utc(pd.Index([value]), what=what)[0]
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
        return _read(self.dismissed_path, DISMISSED_COLUMNS, "dismissed candidates")

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
            _write_text(path, before)
        return what
