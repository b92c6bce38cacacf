"""One registry idiom for every extension point: sources, stores, detectors, forecasters.

Each extension point is a :class:`Registry` that maps a name (what ``workbench.yaml``,
the CLI and notebook parameters say) to ``"module:attribute"``. The module is imported
only when that name is used, so listing the choices (``workbench --help``, config
validation) imports nothing heavy. Plug-ins add names through the entry-point group
``workbench.<kind>s`` in their own package metadata, for example::

    [project.entry-points."workbench.sources"]
    influx = "my_team.influx:InfluxSource"

or at run time with ``SOURCES.register("influx", "my_team.influx:InfluxSource")``.

The built-in names are listed here, in one place, rather than registered at the
bottom of each module (papermill's pattern): a name must be known before its module is
imported, or laziness is lost.
"""

from __future__ import annotations

import importlib
from typing import Any

from workbench.errors import ConfigError

__all__ = ["DETECTORS", "FORECASTERS", "Registry", "SINKS", "SOURCES", "STORES"]


class Registry:
    """Names of one kind of extension, each resolved lazily to a class or function.

    Parameters
    ----------
    kind : str
        What the registry holds, in words ("source"), for error messages.
    builtins : dict of str to str
        ``name -> "module:attribute"`` shipped with the workbench.
    group : str
        The entry-point group plug-ins register under.
    """

    def __init__(self, kind: str, builtins: dict[str, str], group: str) -> None:
        self.kind = kind
        self.group = group
        self._targets: dict[str, str | Any] = dict(builtins)
        self._loaded: dict[str, Any] = {}
        self._plugins_read = False

    def register(self, name: str, target: str | Any) -> None:
        """Add or replace ``name``; ``target`` is ``"module:attribute"`` or the object itself."""
        if not name or not isinstance(name, str):
            raise ConfigError(f"a {self.kind} needs a non-empty name, got {name!r}")
        if isinstance(target, str) and ":" not in target:
            raise ConfigError(f"{self.kind} {name!r}: target must look like 'module:attribute', got {target!r}")
        self._targets[name] = target
        self._loaded.pop(name, None)

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.group):
            # A built-in name is never shadowed by a plug-in: the same config must
            # mean the same thing on every machine that has the workbench.
            self._targets.setdefault(ep.name, ep.value)

    def names(self) -> list[str]:
        """Every registered name, sorted (built-ins, run-time registrations, plug-ins)."""
        self._read_plugins()
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def check(self, name: str) -> str:
        """Return ``name`` if registered, else raise :class:`ConfigError` listing the choices."""
        if name not in self:
            raise ConfigError(f"unknown {self.kind} {name!r}; available: {', '.join(self.names())}")
        return name

    def load(self, name: str) -> Any:
        """The class or function registered as ``name``, imported on first use."""
        self.check(name)
        if name not in self._loaded:
            target = self._targets[name]
            if isinstance(target, str):
                module, _, attribute = target.partition(":")
                try:
                    target = getattr(importlib.import_module(module), attribute)
                except (ImportError, AttributeError) as exc:
                    raise ConfigError(f"{self.kind} {name!r}: cannot load {self._targets[name]!r} ({exc})") from exc
            self._loaded[name] = target
        return self._loaded[name]

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """An instance of ``name``: ``load(name)(*args, **kwargs)``."""
        return self.load(name)(*args, **kwargs)


#: Metric sources: a class built from the config with ``load(services, start, end)``.
SOURCES = Registry(
    "source",
    {
        "sample": "workbench.sources.sample:SampleSource",
        "files": "workbench.sources.files:FilesSource",
        "prometheus": "workbench.sources.prometheus:PrometheusSource",
        "parquet": "workbench.sources.stored:ParquetStoreSource",
        "postgres": "workbench.sources.stored:PostgresStoreSource",
    },
    "workbench.sources",
)

#: Metric stores: a class with ``from_config(config)``, ``write``, ``read``, ``latest``, ``aggregate``.
STORES = Registry(
    "store",
    {
        "parquet": "workbench.store.parquet:ParquetStore",
        "postgres": "workbench.store.postgres:PostgresStore",
    },
    "workbench.stores",
)

#: Anomaly detectors: scikit-learn estimators with ``fit`` and ``score_samples``, each declaring its
#: ``score_direction`` (:class:`workbench.detect.base.ScoreDirection`).
DETECTORS = Registry(
    "detector",
    {
        "isolation_forest": "workbench.detect.forest:IsolationForestDetector",
        "series": "workbench.detect.series:SeriesDetector",
    },
    "workbench.detectors",
)

#: Forecasting methods: ``f(y, h, m, day, calendar) -> ndarray`` of ``h`` values (``m`` the season
#: in steps); capabilities as a ``tags`` dict on the function (see :mod:`workbench.forecast.methods`).
FORECASTERS = Registry(
    "forecast method",
    {
        "profile": "workbench.forecast.methods:profile",
        "mstl": "workbench.forecast.methods:mstl",
        "seasonal_naive": "workbench.forecast.methods:seasonal_naive",
        "median4": "workbench.forecast.methods:median4",
    },
    "workbench.forecasters",
)

#: Alert sinks: a class with ``from_settings(settings, config)`` and ``send(event) -> None``
#: (raising :class:`workbench.errors.DeliveryError` with ``retry`` set, or not, on failure).
SINKS = Registry(
    "alert sink",
    {
        "file": "workbench.alerting.sinks.file:FileSink",
        "alertmanager": "workbench.alerting.sinks.alertmanager:AlertmanagerSink",
        "pagerduty": "workbench.alerting.sinks.pagerduty:PagerDutySink",
    },
    "workbench.sinks",
)
