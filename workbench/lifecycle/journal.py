"""Append-only JSON-lines logs that survive a kill: the alias history and the drift checks.

Each append rewrites the whole file to a temporary name, flushes it and renames it over
the old one (:func:`~workbench._util.atomic_write_text`), so a reader sees the file
with or without the new row, never half a row. The caller holds the service's lock
around read-then-append, so two writers never lose each other's rows. The files stay
small (a row a day or a week per service), so rewriting costs nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench._util import atomic_write_text
from workbench.errors import DataError

__all__ = ["append_row", "read_rows"]


def read_rows(path: Path, required: tuple[str, ...] = ("at",)) -> list[dict]:
    """The rows of ``path``, oldest first (``[]`` when it does not exist yet).

    Raises :class:`DataError` naming the file and line for a row that is not a JSON
    object or lacks a ``required`` field (a hand edit): nothing is guessed.
    """
    if not path.is_file():
        return []
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {n}: not a JSON row ({exc.msg}); restore the file from a backup") from exc
        missing = [k for k in required if not isinstance(row, dict) or k not in row]
        if missing:
            raise DataError(f"{path}, line {n}: a row needs {', '.join(required)} (missing {', '.join(missing)}); restore the file from a backup")
        rows.append(row)
    return rows


def append_row(path: Path, rows: list[dict], row: dict) -> None:
    """Write ``rows`` (as read under the lock) plus ``row`` to ``path`` atomically."""
    lines = [json.dumps(r, default=str, sort_keys=True) for r in [*rows, row]]
    atomic_write_text(path, "\n".join(lines) + "\n")
