"""What a report run records: per notebook and for the whole run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.contracts import NotebookStatus

__all__ = ["NotebookResult", "RunResult"]


@dataclass
class NotebookResult:
    name: str
    status: NotebookStatus
    seconds: float
    html: str | None = None  # file name inside the run folder
    executed: str | None = None
    error: str | None = None
    headline: dict | None = None


@dataclass
class RunResult:
    run_id: str
    folder: Path
    started: str
    source: str
    commit: str
    parameters: dict
    notebooks: list[NotebookResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.notebooks) and all(nb.status == NotebookStatus.OK for nb in self.notebooks)

    @property
    def index(self) -> Path:
        return self.folder / "index.html"
