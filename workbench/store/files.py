"""Single long-form Parquet files: the sample cache and the ``files`` source."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from workbench._util import atomic_path
from workbench.contracts import validate_long
from workbench.errors import DataError

__all__ = ["read_parquet", "write_parquet"]


def read_parquet(
    path: str | os.PathLike[str],
    services: list[str] | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    *,
    check: bool = True,
) -> pd.DataFrame:
    """Long-form metrics from a Parquet file, limited to ``services`` and ``[start, end)``.

    ``check``: apply the data-quality checks (a team's file: yes; the generated sample: no need).

    Raises
    ------
    DataError
        The file is missing or unreadable, or its rows break the long-form contract.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"metrics file not found: {path}")
    filters = []
    if services is not None:
        filters.append(("service", "in", list(services)))
    if start is not None:
        filters.append(("timestamp", ">=", start))
    if end is not None:
        filters.append(("timestamp", "<", end))
    try:
        frame = pd.read_parquet(path, filters=filters or None)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read as Parquet ({exc})") from exc
    if frame.empty:
        return frame
    return validate_long(frame, check=check)


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Validate ``frame`` and write it to ``path`` atomically (temporary name, then rename)."""
    path = Path(path)
    clean = validate_long(frame)
    with atomic_path(path) as tmp:
        clean.to_parquet(tmp, index=False)
    return path
