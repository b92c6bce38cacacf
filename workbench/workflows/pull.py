"""``workbench pull``: copy metrics from Prometheus into the store, incrementally.

Without an explicit start, each series is fetched only from the step after the newest
sample the store already holds (within ``since``), so a pull every few minutes asks
Prometheus for minutes, not days. With ``start`` the whole range is fetched again and
upserted: the store ends the same whichever way it was filled.

Everything is fetched before the store is touched: a Prometheus that fails mid-pull
raises and leaves the store exactly as it was. So does a query that returns no series
for a series the store does not hold (:class:`~workbench.sources.prometheus.NoSeriesError`);
a stored series whose newest minutes are not in Prometheus yet is simply up to date.

:func:`check` (``workbench pull --check``) says what each query returns, storing nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from workbench.config import Config
from workbench.errors import DataError, SourceError
from workbench.sources import time_range
from workbench.sources.prometheus import (
    PrometheusClient,
    Task,
    check_queries,
    default_range,
)
from workbench.store import open_store

__all__ = ["PullResult", "check", "plan_pull", "pull", "pull_range"]


@dataclass
class PullResult:
    """What one pull did."""

    store: str
    start: pd.Timestamp
    end: pd.Timestamp
    series: int
    up_to_date: int
    fetched: int
    added: int
    changed: int
    seconds: float
    per_service: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        out["seconds"] = round(self.seconds, 3)
        return out


def plan_pull(
    config: Config,
    latest: dict[tuple[str, str], pd.Timestamp],
    services: list[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    incremental: bool,
) -> list[Task]:
    """The series ranges to fetch; with ``incremental``, from just after what is stored.

    A series in ``latest`` is marked ``stored``: Prometheus having nothing for it is no error.
    """
    step = pd.Timedelta(config.source.prometheus.step)
    tasks = []
    for service in services:
        for metric in config.source.prometheus.templates:
            lo = start
            have = latest.get((service, metric))
            if incremental and have is not None:
                lo = max(lo, have + step)
            if lo < end:
                tasks.append(Task(service, metric, lo, end, stored=have is not None))
    return tasks


def pull_range(
    config: Config,
    since: str,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    now: pd.Timestamp | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp, bool]:
    """``[start, end)`` on the step grid, and whether it was given (else it is ``since`` back from the end).

    Raises
    ------
    DataError
        A bad range or ``since``.
    """
    lo, hi = time_range(start, end)
    if lo is not None:
        return (*default_range(config.source.prometheus, lo, hi, now=now), True)
    try:
        # "30d" as users write it; pandas wants "30D" for days.
        reach = pd.Timedelta(re.sub(r"(?<=\d)d$", "D", str(since).strip()))
    except (ValueError, TypeError) as exc:
        raise DataError(f"--since: not a duration like '30d' or '12h': {since!r}") from exc
    if reach <= pd.Timedelta(0):
        raise DataError(f"--since must be positive, got {since!r}")
    _, hi = default_range(config.source.prometheus, None, hi, now=now)
    return hi - reach, hi, False


def check(
    config: Config,
    *,
    since: str = "1h",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    services: list[str] | None = None,
    now: pd.Timestamp | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp, list[dict]]:
    """What each (service, metric) query returns over the last ``since`` (or ``[start, end)``).

    The store is neither read nor written. Returns the range and
    :func:`~workbench.sources.prometheus.check_queries`' rows.
    """
    services = [config.check_service(s) for s in services] if services else list(config.services)
    lo, hi, _ = pull_range(config, since, start, end, now)
    return lo, hi, check_queries(config.source.prometheus, services, lo, hi)


def pull(
    config: Config,
    *,
    since: str = "30D",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    services: list[str] | None = None,
    store: str | None = None,
    progress: bool = False,
    on_chunk: Callable[[int, int], None] | None = None,
    now: pd.Timestamp | None = None,
) -> PullResult:
    """Fetch from Prometheus and upsert into the store.

    Parameters
    ----------
    config
        The loaded configuration (``source.prometheus``, ``store``).
    since
        How far back an incremental pull reaches (``30D``, ``12h``); ignored with ``start``.
    start, end
        An explicit ``[start, end)`` (ISO strings or timestamps); the range is fetched whole.
    services
        Configured services to pull; default all.
    store
        ``parquet`` or ``postgres``; default ``store.kind``.
    progress
        Show a progress bar.
    on_chunk
        Called after each finished query as ``on_chunk(done, total)``.
    now
        The clock, for tests.

    Raises
    ------
    NoSeriesError
        A query returned no series over the range for a series not in the store; the
        store is unchanged.
    PrometheusError
        A query failed; the store is unchanged.
    DataError, ConfigError
        A bad range, service or setting.
    """
    began = time.perf_counter()
    services = [config.check_service(s) for s in services] if services else list(config.services)
    lo, hi, explicit = pull_range(config, since, start, end, now)
    target = open_store(config, store)
    # Read for an explicit range too: a stored series that Prometheus has nothing for is no error.
    latest = target.latest(services)
    tasks = plan_pull(config, latest, services, lo, hi, incremental=not explicit)
    # All or nothing: everything is fetched before the store is touched.
    try:
        with PrometheusClient(config.source.prometheus) as client:
            frame = client.fetch(tasks, progress=progress, on_chunk=on_chunk)
    except SourceError as exc:
        # On the first line: the lines after it list queries, to be copied whole.
        first, newline, rest = str(exc).partition("\n")
        raise type(exc)(f"{first}; nothing was written to the store{newline}{rest}") from exc
    written = target.write(frame) if not frame.empty else None
    per_service = frame.groupby("service").size().to_dict() if not frame.empty else {}
    series = len(services) * len(config.source.prometheus.templates)
    return PullResult(
        store=store or config.store.kind,
        start=lo,
        end=hi,
        series=series,
        up_to_date=series - len(tasks),
        fetched=len(frame),
        added=written.added if written else 0,
        changed=written.changed if written else 0,
        seconds=time.perf_counter() - began,
        per_service={k: int(v) for k, v in per_service.items()},
    )
