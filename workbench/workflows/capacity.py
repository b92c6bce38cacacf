"""The 05 notebook's and ``workbench forecast``'s workflow: load each service's usage and
holidays, then plan capacity (:mod:`workbench.forecast.capacity`) or backtest it.
"""

from __future__ import annotations

import warnings

import pandas as pd

from workbench.config import Config
from workbench.contracts import CAPACITY_RESOURCES
from workbench.errors import DataWarning
from workbench.forecast.capacity import CapacityPlan, backtest_series, plan_from_series
from workbench.labels.incidents import read_events
from workbench.sources import load_metrics

__all__ = ["backtest_services", "holiday_dates", "plan_capacity", "usage_series"]


def usage_series(config: Config, source: str | None = None, services: list[str] | None = None, start=None, end=None) -> dict[tuple[str, str], pd.Series]:
    """Each service's CPU, memory and request-rate series from ``source``, keyed ``(service, resource)``."""
    frame = load_metrics(config, source=source, services=services, start=start, end=end)
    frame = frame[frame["metric"].isin(CAPACITY_RESOURCES)]
    out = {}
    for (service, metric), rows in frame.groupby(["service", "metric"], sort=True):
        out[(str(service), str(metric))] = pd.Series(rows["value"].to_numpy(), index=pd.DatetimeIndex(rows["timestamp"]), name=f"{service}/{metric}")
    absent = [f"{s} {m}" for s in services or config.services for m in CAPACITY_RESOURCES if (s, m) not in out]
    if absent:
        # A plan without them would look complete: say what it leaves out.
        warnings.warn(f"no data for {', '.join(absent)}: left out of the capacity plan", DataWarning, stacklevel=2)
    return out


def holiday_dates(config: Config) -> dict[str, list]:
    """Per configured service, the days of ``holiday`` events for it (or ``*``) in the events calendar.

    Read once per plan. A holiday spanning several days marks each of them; a missing
    calendar means none.
    """
    out: dict[str, list] = {service: [] for service in config.services}
    path = config.path("events")
    if not path.is_file():
        return out
    events = read_events(path)
    rows = events[events["type"].str.strip().str.lower() == "holiday"]
    for service in out:
        days = set()
        mine = rows[rows["service"].isin([service, "*"])]
        for start, end in zip(mine["start"], mine["end"]):
            last = max(end - pd.Timedelta("1ns"), start)
            days.update(pd.date_range(start.normalize(), last.normalize(), freq="1D").date)
        out[service] = sorted(days)
    return out


def plan_capacity(config: Config, source: str | None = None, services: list[str] | None = None, series: dict | None = None) -> CapacityPlan:
    """Forecast every service's CPU, memory and request rate and size them.

    ``series``: usage already loaded (:func:`usage_series`), instead of reading ``source``.
    Raises :class:`~workbench.errors.ForecastError` for a series too short for any seasonality.
    """
    series = series if series is not None else usage_series(config, source, services)
    return plan_from_series(config.capacity, series, holiday_dates(config))


def backtest_services(config: Config, source: str | None = None, services: list[str] | None = None, methods: tuple[str, ...] | None = None, series: dict | None = None) -> pd.DataFrame:
    """Rolling-origin backtest rows for every service and resource (see :func:`~workbench.forecast.capacity.backtest_series`)."""
    series = series if series is not None else usage_series(config, source, services)
    return backtest_series(config.capacity, series, methods, holiday_dates(config))
