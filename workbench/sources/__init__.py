"""Metric sources behind one registry: ``sample`` (generated), ``files`` (CSV/Parquet),
``prometheus`` (range queries), ``parquet`` and ``postgres`` (the store `workbench pull` fills).

A source is a class built from the :class:`~workbench.config.Config` with a
``load(services, start, end)`` method that returns validated long-form metrics.
Sources are registered by name in :data:`workbench._registry.SOURCES` (plug-ins through
the ``workbench.sources`` entry-point group) and imported only when used.
"""

from __future__ import annotations

import pandas as pd

from workbench._registry import SOURCES
from workbench._util import parse_time
from workbench.config import Config
from workbench.contracts import to_wide
from workbench.errors import DataError

__all__ = ["load_metrics", "load_service", "time_range"]


def time_range(start: str | pd.Timestamp | None, end: str | pd.Timestamp | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Parse an optional ``[start, end)`` pair to UTC; empty strings mean open-ended.

    Raises :class:`DataError` for unparseable values or ``end`` not after ``start``.
    """
    lo, hi = parse_time(start, "start"), parse_time(end, "end")
    if lo is not None and hi is not None and hi <= lo:
        raise DataError(f"end ({hi}) must be after start ({lo})")
    return lo, hi


def load_metrics(
    config: Config,
    source: str | None = None,
    services: list[str] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Long-form metrics for ``services`` in ``[start, end)`` from ``source``.

    Parameters
    ----------
    config
        The loaded configuration.
    source
        A registered source name; ``None`` or ``""`` uses ``config.source.kind``.
    services
        Configured service names; ``None`` means all.
    start, end
        ISO strings or timestamps, tz-naive taken as UTC; ``None`` or ``""`` is open-ended.

    Raises
    ------
    ConfigError
        Unknown source or service.
    DataError
        Bad time range, or no data in it.
    """
    for service in services or []:
        config.check_service(service)
    lo, hi = time_range(start, end)
    frame = SOURCES.create(source or config.source.kind, config).load(services or list(config.services), lo, hi)
    if frame.empty:
        named = ", ".join(services) if services else "any service"
        when = f"between {f'{lo:%Y-%m-%d %H:%M} UTC' if lo is not None else 'the start of the data'} and {f'{hi:%Y-%m-%d %H:%M} UTC' if hi is not None else 'its end'}"
        raise DataError(f"no metrics for {named} {when} (source {source or config.source.kind})")
    return frame


def load_service(config: Config, service: str, **kwargs) -> pd.DataFrame:
    """One service's metrics in wide form; keyword arguments as :func:`load_metrics`."""
    return to_wide(load_metrics(config, services=[service], **kwargs), service)
