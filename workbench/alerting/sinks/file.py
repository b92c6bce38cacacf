"""The ``file`` sink: one JSON line per event, appended to ``data/alerts/events.jsonl``.

Idempotent: each line carries the outbox row's id, and a row already in the file is not
written again, so a delivery repeated after a crash (written, but not yet marked
delivered) leaves one line, not two. Each line is flushed and fsynced before ``send``
returns, so "delivered" in the outbox means "on disk".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.alerting.sinks import check_options
from workbench.errors import DeliveryError

__all__ = ["FileSink"]


class FileSink:
    """Append events to a JSON-lines file.

    Parameters
    ----------
    path
        The file (its folder is created).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._seen: set[int] | None = None

    @classmethod
    def from_settings(cls, options: dict, config) -> FileSink:
        check_options("file", options, {"path"})
        return cls(config.root / options.get("path", "data/alerts/events.jsonl"))

    def _ids(self) -> set[int]:
        if self._seen is None:
            self._seen = set()
            if self.path.is_file():
                with open(self.path, encoding="utf-8") as fh:
                    for line in fh:
                        try:
                            self._seen.add(int(json.loads(line)["id"]))
                        except (ValueError, KeyError, TypeError):
                            continue  # a line cut by a crash mid-write: it never counted as delivered
        return self._seen

    def send(self, row: dict) -> None:
        if int(row["id"]) in self._ids():
            return
        line = json.dumps({"id": int(row["id"]), **row["payload"]}, sort_keys=True, default=str)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                # A line cut short by an earlier crash must not swallow this one.
                if fh.tell() and not self._ends_with_newline():
                    fh.write("\n")
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path}: {exc}", retry=True) from exc
        self._ids().add(int(row["id"]))

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def events(self) -> list[dict]:
        """Every complete event line in the file, in order."""
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out
