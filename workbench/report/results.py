"""What a report run records: per notebook and for the whole run, and how far the run got."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from workbench.contracts import NotebookStatus

__all__ = ["NotebookResult", "RunResult", "RunState"]


class RunState(StrEnum):
    """How far a report run got.

    ``running`` is written when the run starts and stays until it ends, so a run that
    was killed outright (SIGKILL, a crash, a power cut) is left saying ``running``;
    only a process holding the report lock can be running it.
    """

    RUNNING = "running"
    #: Every planned notebook ran (each one succeeded or failed).
    COMPLETE = "complete"
    #: Stopped by SIGINT or SIGTERM; the notebooks after the interrupted one never ran.
    INTERRUPTED = "interrupted"
    #: Stopped by an error of the run itself (its record could not be written), not a notebook's.
    FAILED = "failed"


@dataclass
class NotebookResult:
    name: str
    status: NotebookStatus
    seconds: float
    html: str | None = None  # file name inside the run folder
    executed: str | None = None
    error: str | None = None  # one line: the cell and the error, credentials masked
    headline: dict | None = None
    #: The report's title: the notebook's first ``# `` heading.
    title: str | None = None


@dataclass
class RunResult:
    run_id: str
    folder: Path
    started: str
    source: str
    commit: str
    parameters: dict
    notebooks: list[NotebookResult] = field(default_factory=list)
    #: Every notebook the run set out to run, in order, recorded before the first one starts.
    planned: list[str] = field(default_factory=list)
    state: RunState = RunState.RUNNING
    #: The notebook running now (or when the run was stopped); ``None`` between notebooks.
    current: str | None = None
    #: The configuration file, relative to the project root (never a machine path).
    config: str = "workbench.yaml"
    #: Why the run stopped early (``interrupted by SIGTERM``, a write error); ``None`` otherwise.
    reason: str | None = None
    #: An ad-hoc subset of the numbered notebooks (``--notebooks 01``): listed, never ``latest``.
    partial: bool = False
    #: Each given parameter that only some of the planned notebooks declare: ``{name: [those notebooks]}``.
    parameter_scope: dict[str, list[str]] = field(default_factory=dict)
    #: The id asked for, when it was taken and this run got a suffix (``nightly-2`` for ``nightly``).
    requested_id: str | None = None

    @property
    def ok(self) -> bool:
        """True only for a complete run in which every planned notebook succeeded."""
        return (
            self.state == RunState.COMPLETE
            and bool(self.notebooks)
            and not self.not_run
            and all(nb.status == NotebookStatus.OK for nb in self.notebooks)
        )

    @property
    def moves_latest(self) -> bool:
        """True for an ``ok`` run of the whole suite: the only kind ``reports/latest`` points at."""
        return self.ok and not self.partial

    @property
    def not_run(self) -> list[str]:
        """The planned notebooks that have not finished (the current one included), in order."""
        done = {nb.name for nb in self.notebooks}
        return [name for name in self.planned if name not in done]

    @property
    def index(self) -> Path:
        return self.folder / "index.html"
