"""Checks before a report run starts: what every notebook needs, tested once.

A run over a project whose source is unreachable, whose metrics file is gone, whose
requested range holds no data or whose label files are damaged would otherwise fail
notebook after notebook, a minute later each, with the same error. :func:`check_ready`
tries each of those once, in seconds, and names every problem with its fix.
"""

from __future__ import annotations

import pandas as pd

from workbench._util import parse_time
from workbench.config import Config
from workbench.errors import DataError, SourceError, WorkbenchError
from workbench.labels.incidents import read_events, read_incidents
from workbench.sources import load_metrics

__all__ = ["check_ready"]

#: How much of a live source (Prometheus) the check reads when no range is given: enough to
#: show it answers and holds the services, without pulling the month the notebooks will.
PROBE = pd.Timedelta("1h")


def check_ready(config: Config, parameters: dict[str, str]) -> None:
    """Raise before a run when it cannot work; return quietly when it can.

    Parameters
    ----------
    parameters
        The run's ``--param`` values as given (``service``, ``source``, ``start``, ``end``
        are looked at).

    Raises
    ------
    SourceError
        The source could not be reached (exit 1: try again later); the message also
        lists any other problem found.
    DataError
        Label files that cannot be read, no metrics for a service or in the requested
        range (exit 2: fix the input); every problem is listed.
    """
    problems: list[str] = []
    unreachable = False
    for what, read, path in (("incident log", read_incidents, config.path("incidents")), ("events calendar", read_events, config.path("events"))):
        if not path.exists():
            continue  # not every run needs labels; a notebook that does names the missing file
        try:
            read(path)
        except DataError as exc:
            problems.append(f"{what}: {exc}")
    service = parameters.get("service") or ""
    services = [service] if service else list(config.services)
    source = parameters.get("source") or config.source.kind
    start, end = parameters.get("start") or None, parameters.get("end") or None
    if source == "prometheus" and start is None:
        try:
            end_at = parse_time(end, "end") or pd.Timestamp.now(tz="UTC")
        except DataError as exc:
            raise DataError(f"the run cannot work, so nothing was run: {exc}") from None
        start = str(end_at - PROBE)
    try:
        frame = load_metrics(config, source=source, services=services, start=start, end=end)
        have = set(frame["service"].astype(str))
        lacking = [s for s in services if s not in have]
        if lacking:
            problems.append(f"source {source}: no metrics for {', '.join(lacking)} between {start or 'the start'} and {end or 'the end'}")
    except SourceError as exc:
        unreachable = True
        problems.append(f"source {source}: {exc}")
    except WorkbenchError as exc:
        problems.append(f"source {source}: {exc}")
    if problems:
        text = "the run cannot work, so nothing was run:\n  - " + "\n  - ".join(problems)
        raise SourceError(text) if unreachable else DataError(text)
