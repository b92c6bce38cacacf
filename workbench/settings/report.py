"""Scheduled report runs (``workbench report``): how long a notebook may run, how many runs to keep."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from workbench.settings.types import PositiveDuration, Strict

__all__ = ["ReportSettings"]


class ReportSettings(Strict):
    """What a report run may take and what it leaves behind."""

    #: Wall-clock limit for one notebook, kernel start to last cell. A notebook still running
    #: then is failed ("timed out after ..."), its kernel killed, and the run goes on with the
    #: next one: a hung query must not hold a nightly run (and its lock) forever.
    timeout: PositiveDuration = "20min"
    #: Runs kept under ``reports/`` (the newest by start time); older ones are removed after
    #: each complete run. ``latest``'s run is always kept. ``null`` keeps every run.
    keep: Annotated[int | None, Field(ge=1)] = 30
