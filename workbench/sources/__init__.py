"""Metric sources behind one registry: ``sample`` (generated), ``files`` (CSV/Parquet),
``prometheus`` (range queries), ``parquet`` and ``postgres`` (the store `workbench pull` fills).

A source is a class built from the :class:`~workbench.config.Config` with a
``load(services, start, end)`` method that returns validated long-form metrics.
New sources register themselves the same way the built-in ones do below.
"""

from __future__ import annotations

import pandas as pd

from workbench.config import Config, ConfigError
from workbench.frames import DataError, as_utc, to_wide

__all__ = ["SourceRegistry", "load_metrics", "load_service", "registry", "time_range"]


class SourceRegistry:
    """Maps a source name (the ``source`` notebook parameter) to its class."""

    def __init__(self) -> None:
        self._classes: dict[str, type] = {}

    def register(self, name: str, cls: type) -> None:
        self._classes[name] = cls

    def names(self) -> list[str]:
        return sorted(self._classes)

    def create(self, name: str, config: Config):
        """An instance of source ``name`` for ``config``; unknown names list the choices."""
        if name not in self._classes:
            raise ConfigError(f"unknown source {name!r}; available: {', '.join(self.names())}")
        return self._classes[name](config)


registry = SourceRegistry()


def time_range(start: str | pd.Timestamp | None, end: str | pd.Timestamp | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Parse an optional ``[start, end)`` pair to UTC; empty strings mean open-ended.

    Raises :class:`DataError` for unparseable values or ``end`` not after ``start``.
    """
    def one(value, what):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return as_utc(pd.Index([value]), what=what)[0]

    lo, hi = one(start, "start"), one(end, "end")
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
    frame = registry.create(source or config.source.kind, config).load(services or list(config.services), lo, hi)
    if frame.empty:
        raise DataError(f"no metrics for {services or 'any service'} between {lo or 'the start'} and {hi or 'the end'}")
    return frame


def load_service(config: Config, service: str, **kwargs) -> pd.DataFrame:
    """One service's metrics in wide form; keyword arguments as :func:`load_metrics`."""
    return to_wide(load_metrics(config, services=[service], **kwargs), service)


# Imported last: the source modules register themselves on ``registry``.
from workbench.sources import files, prometheus, sample, stored  # noqa: E402,F401
