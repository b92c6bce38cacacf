"""The incident log and the events calendar: read, validate, select, write.

Both are small CSV files a team keeps in git (``paths.incidents`` and ``paths.events``:
``data/incidents.csv`` and ``data/events.csv`` by default; the bundled sample's live in
``data/sample-labels/``). Times are ISO 8601; tz-naive times are taken as UTC, with a warning.
A file that looks cut short (a row with fewer fields than the header) is refused whole:
reading the rows before the cut would silently drop the rest.
Writes go to a temporary file that is then renamed, so a crash never leaves a
half-written log.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench._util import atomic_write_text, to_utc
from workbench.contracts import EVENT_COLUMNS, INCIDENT_COLUMNS
from workbench.errors import DataError, DataWarning

__all__ = [
    "SEVERITIES",
    "in_range",
    "load_labels",
    "overlaps",
    "read_events",
    "read_incidents",
    "write_csv",
]

SEVERITIES = ("critical", "major", "minor")
#: A time that says its offset: ``Z``, ``UTC`` or ``+hh:mm`` / ``-hhmm`` at the end.
_OFFSET = re.compile(r"(?:Z|UTC|[+-]\d{2}:?\d{2})\s*$", re.IGNORECASE)


def _lines(frame: pd.DataFrame, mask) -> list[int]:
    return (frame.index[mask] + 2).tolist()  # +2: the header line, 1-based lines


def _check_fields(path: Path, text: str) -> None:
    """Every row has the header's number of fields: a row cut short is a truncated file, not data."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise DataError(f"{path}: the file is empty; an empty log is its header line alone")
    short = []
    for row in reader:
        if row and len(row) != len(header):
            short.append(f"line {reader.line_num} has {len(row)} fields")
    if not short and text and not text.endswith(("\n", "\r")) and text.count("\n") > 0:
        # Every writer ends the file with a line break: without one, the last row may be cut
        # inside its last field (a name cut to "sample-ge"), which no field count can see.
        raise DataError(
            f"{path}: the file does not end with a line break, so its last row (line {reader.line_num}) may be cut short "
            "(a truncated copy?); if that row is whole, add the line break; nothing was read"
        )
    if short:
        raise DataError(
            f"{path}: {'; '.join(short[:5])}, the header has {len(header)}: the file looks cut short (a truncated copy?) "
            "or a value holds an unquoted comma; nothing was read (restore it from git or a backup)"
        )


def read_csv_checked(path: Path, columns: list[str], what: str, required: tuple[str, ...] = ("start", "end")) -> pd.DataFrame:
    """A label CSV: ``columns`` present, every row whole, ``required`` fields filled,
    ``start``/``end`` parsed to UTC and end after start.

    Naive times are taken as UTC (the contract), with a :class:`DataWarning` naming the
    lines, since a local time read as UTC lands hours away from its alerts.
    """
    if not Path(path).is_file():
        raise DataError(
            f"{what} file not found: {path} (for the bundled sample, `workbench sample --write-labels` writes its labels)"
        )
    try:
        text = Path(path).read_text(encoding="utf-8")
        _check_fields(path, text)
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing}; expected {columns}")
    frame = frame[columns].copy()
    for col in required:
        empty = frame[col].str.strip() == ""
        if empty.any():
            raise DataError(f"{path}: {col} is empty on lines {_lines(frame, empty)}")
    naive = ~(frame["start"].str.contains(_OFFSET) & frame["end"].str.contains(_OFFSET))
    if naive.any():
        warnings.warn(
            f"{path}: times without a UTC offset on lines {_lines(frame, naive)[:10]} are taken as UTC; "
            "write them as 2026-09-01T10:00Z (or with +02:00) to say which",
            DataWarning,
            stacklevel=3,
        )
    for col in ("start", "end"):
        frame[col] = to_utc(frame[col], what=f"{path}: {col}")
    backwards = frame["end"] <= frame["start"]
    if backwards.any():
        raise DataError(f"{path}: end is not after start on lines {_lines(frame, backwards)}")
    return frame.sort_values("start", kind="stable").reset_index(drop=True)


def overlaps(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(service, id, id)`` for each pair of consecutive incidents of a service that overlap."""
    found = []
    for service, rows in frame.sort_values("start", kind="stable").groupby("service"):
        clash = rows["start"].iloc[1:].to_numpy() < rows["end"].iloc[:-1].to_numpy()
        for k in np.flatnonzero(clash):
            found.append((service, rows["id"].iloc[k], rows["id"].iloc[k + 1]))
    return found


def read_incidents(path: str | os.PathLike[str], services: list[str] | None = None) -> pd.DataFrame:
    """Read and validate the incident log, with the checks the labeller applies to an edit.

    Parameters
    ----------
    services
        The configured services: an incident of another one (a typo, a service no longer
        configured) is kept in the file but left out of the result, with a
        :class:`DataWarning` naming it, rather than silently missing from an evaluation.

    Raises
    ------
    DataError
        Missing or empty file, a row cut short (a truncated file), missing columns, an empty
        id, service, start, end or severity, unparseable times, end not after start,
        duplicate ids, an unknown severity, or two incidents of a service that overlap
        (they would be counted twice).
    """
    frame = read_csv_checked(Path(path), INCIDENT_COLUMNS, "incident log", ("id", "service", "start", "end", "severity"))
    dupes = sorted(frame.loc[frame["id"].duplicated(), "id"].unique())
    if dupes:
        raise DataError(f"{path}: duplicate incident ids {dupes}")
    bad = sorted(set(frame["severity"]) - set(SEVERITIES))
    if bad:
        raise DataError(f"{path}: unknown severities {bad}; expected one of {list(SEVERITIES)}")
    clashes = overlaps(frame)
    if clashes:
        pairs = "; ".join(f"{a} and {b} ({service})" for service, a, b in clashes[:5])
        raise DataError(f"{path}: overlapping incidents of one service would be counted twice: {pairs}; merge them or fix their times")
    if services is not None:
        unknown = ~frame["service"].isin(services)
        if unknown.any():
            named = ", ".join(f"{i} ({s!r})" for i, s in zip(frame.loc[unknown, "id"], frame.loc[unknown, "service"]))
            warnings.warn(
                f"{path}: incidents of services that are not configured are left out: {named}; "
                f"configured: {', '.join(services)}",
                DataWarning,
                stacklevel=2,
            )
            frame = frame[~unknown].reset_index(drop=True)
    return frame


def read_events(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate the events calendar (deploys, campaigns, maintenance ...)."""
    frame = read_csv_checked(Path(path), EVENT_COLUMNS, "events calendar", ("start", "end", "service"))
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
    incidents = read_incidents(config.path("incidents"), list(config.services))
    events = read_events(config.path("events"))
    return in_range(incidents, service, start, end), in_range(events, service, start, end)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` as CSV atomically (temporary file in the same folder, then rename)."""
    out = frame.copy()
    for col in ("start", "end"):
        if col in out and len(out):
            out[col] = to_utc(out[col], what=col).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    atomic_write_text(path, out.to_csv(index=False))
