"""The incident log and the events calendar: read, validate, select, write.

Both are small CSV files a team keeps in git (``data/incidents.csv``,
``data/events.csv``). Times are ISO 8601; tz-naive times are taken as UTC.
Writes go to a temporary file that is then renamed, so a crash never leaves a
half-written log.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from workbench._util import atomic_write_text, to_utc
from workbench.contracts import EVENT_COLUMNS, INCIDENT_COLUMNS
from workbench.errors import DataError

__all__ = [
    "SEVERITIES",
    "in_range",
    "load_labels",
    "read_events",
    "read_incidents",
    "write_csv",
]

SEVERITIES = ("critical", "major", "minor")


def read_csv_checked(path: Path, columns: list[str], what: str) -> pd.DataFrame:
    """A label CSV (``columns`` required, ``start``/``end`` parsed to UTC, end after start)."""
    if not Path(path).is_file():
        raise DataError(
            f"{what} file not found: {path} (for the bundled sample, `workbench sample --write-labels` writes its labels)"
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing}; expected {columns}")
    frame = frame[columns].copy()
    for col in ("start", "end"):
        frame[col] = to_utc(frame[col], what=f"{path}: {col}")
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
    frame = read_csv_checked(Path(path), INCIDENT_COLUMNS, "incident log")
    dupes = sorted(frame.loc[frame["id"].duplicated(), "id"].unique())
    if dupes:
        raise DataError(f"{path}: duplicate incident ids {dupes}")
    bad = sorted(set(frame["severity"]) - set(SEVERITIES))
    if bad:
        raise DataError(f"{path}: unknown severities {bad}; expected one of {list(SEVERITIES)}")
    return frame


def read_events(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate the events calendar (deploys, campaigns, maintenance ...)."""
    frame = read_csv_checked(Path(path), EVENT_COLUMNS, "events calendar")
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
            out[col] = to_utc(out[col], what=col).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    atomic_write_text(path, out.to_csv(index=False))
