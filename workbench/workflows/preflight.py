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
from workbench.sources.prometheus_http import NoSeriesError
from workbench.sources.sample import ensure_sample

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
    attempts = [start]
    if source == "sample" and start is None and end is None:
        # Generated for every configured service over its whole span: there is nothing to find
        # out by reading (and validating) all of it, which would add seconds to every run.
        ensure_sample(config)
        attempts = []
    elif source == "prometheus" and start is None:
        # The last hour first (seconds); only when it is empty, the whole lookback the
        # notebooks will read (data that ended yesterday is still a month of data).
        try:
            end_at = parse_time(end, "end") or pd.Timestamp.now(tz="UTC")
        except DataError as exc:
            raise DataError(f"the run cannot work, so nothing was run: {exc}") from None
        attempts = [str(end_at - PROBE), str(end_at - pd.Timedelta(config.source.prometheus.lookback))]
    for k, start in enumerate(attempts):
        last = k == len(attempts) - 1
        try:
            frame = load_metrics(config, source=source, services=services, start=start, end=end)
        except SourceError as exc:
            empty = isinstance(exc, NoSeriesError)
            if empty and not last:
                continue
            unreachable = not empty  # nothing there is bad input (exit 2); a server down is not (exit 1)
            problems.append(f"source {source}: {exc}")
        except WorkbenchError as exc:
            if not last:
                continue
            problems.append(f"source {source}: {exc}")
        else:
            lacking = [s for s in services if s not in set(frame["service"].astype(str))]
            if lacking and not last:
                continue
            if lacking:
                problems.append(f"source {source}: no metrics for {', '.join(lacking)} between {start or 'the start'} and {end or 'the end'}")
        break
    if problems:
        text = "the run cannot work, so nothing was run:\n  - " + "\n  - ".join(problems)
        raise SourceError(text) if unreachable else DataError(text)
