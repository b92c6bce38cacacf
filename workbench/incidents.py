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

import pandas as pd

from workbench.frames import EVENT_COLUMNS, INCIDENT_COLUMNS, DataError, as_utc

__all__ = ["SEVERITIES", "in_range", "load_labels", "read_events", "read_incidents", "write_csv"]

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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    for col in ("start", "end"):
        if col in out and isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); a shared log should follow the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", newline="") as fh:
            out.to_csv(fh, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
