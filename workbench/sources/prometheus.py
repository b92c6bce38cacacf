"""Metrics from Prometheus range queries (``source.prometheus`` in the config).

Each canonical metric has a PromQL template: the chosen ``query_set``'s
(:data:`workbench.settings.data.QUERY_SETS`: ``http_client``, ``cadvisor``,
``node_exporter``) with ``queries`` merged over it. ``$label`` becomes the label that names
a service (``service_label``), ``$service`` the service. In every set ``cpu_usage`` and
``memory_usage`` are percent of what is provisioned (CPU: of the CPU limit, quota / period,
or of the hosts' cores; memory: of the limit or of the hosts' memory), because the
capacity plan turns them into vCPUs and GiB as ``percent / 100 * provisioned``.

A query that returns no series over the whole range, for a series the store does not hold
yet, is a :class:`NoSeriesError` naming the service, the metric, the query and the label
it expected: it is almost always a wrong label, not a quiet service. :func:`check_queries`
says, per service and metric, what each query returns without storing anything
(``workbench pull --check``), and :func:`discover_services` lists the values of the service
label. The HTTP side (chunks, retries, credentials) is :mod:`.prometheus_http`.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from workbench.config import Config
from workbench.errors import ConfigError
from workbench.settings import PrometheusSettings
from workbench.settings.data import LABEL_NAME
from workbench.sources.prometheus_http import (
    NoSeriesError,
    PrometheusClient,
    PrometheusError,
    QueryRejected,
    Task,
)
from workbench.sources.promql import problem, render_query

__all__ = [
    "NoSeriesError",
    "PrometheusClient",
    "PrometheusError",
    "PrometheusSource",
    "QueryRejected",
    "Task",
    "check_queries",
    "default_range",
    "discover_services",
    "render_query",
]


def default_range(settings: PrometheusSettings, start: pd.Timestamp | None, end: pd.Timestamp | None, now: pd.Timestamp | None = None):
    """``[start, end)`` with open ends filled: end is now (on the step grid), start is ``lookback`` before end."""
    step = pd.Timedelta(settings.step)
    if end is None:
        end = (now or pd.Timestamp.now(tz="UTC")).floor(step) + step
    if start is None:
        start = end - pd.Timedelta(settings.lookback)
    return start, end


class PrometheusSource:
    """Reads metrics straight from Prometheus for a notebook (nothing is stored).

    Without a start, the last ``source.prometheus.lookback`` is read. Use
    ``workbench pull`` to keep a copy in the store instead. A metric whose query returns
    no series over the range is a :class:`NoSeriesError`.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.settings = config.source.prometheus

    def load(self, services: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        start, end = default_range(self.settings, start, end)
        tasks = [Task(s, m, start, end) for s in services for m in self.settings.templates]
        with PrometheusClient(self.settings) as client:
            return client.fetch(tasks)


def discover_services(settings: PrometheusSettings, label: str | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """The values of the service label in Prometheus (``/api/v1/label/<label>/values``), sorted.

    Parameters
    ----------
    settings
        ``source.prometheus``: the server, credentials and retries.
    label
        The label to list; default ``settings.service_label``.
    env
        Where credentials are read; default ``os.environ``.

    Raises
    ------
    ConfigError
        ``label`` is not a label name.
    PrometheusError
        The server could not be reached or refused.
    """
    label = label or settings.service_label
    if not LABEL_NAME.fullmatch(label):
        raise ConfigError(f"not a Prometheus label name (letters, digits and '_', not first a digit): {label!r}")
    with PrometheusClient(settings, env=env) as client:
        return client.label_values(label)


def check_queries(
    settings: PrometheusSettings,
    services: list[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    env: Mapping[str, str] | None = None,
) -> list[dict]:
    """What each (service, metric) query returns over ``[start, end)``; nothing is stored.

    Returns
    -------
    list of dict
        One per service and metric, in that order: ``service``, ``metric``, ``query``
        (rendered), ``series`` and ``samples`` (what it returns), and ``problem``
        (``None``, or e.g. ``"no series: is the label `service` right?"``,
        ``"3 series: aggregate with sum (they differ in instance)"``, or Prometheus'
        reason for rejecting the query).

    Raises
    ------
    PrometheusError
        The server could not be reached or refused for another reason than the query
        (authentication, say): nothing could be checked.
    """
    label = settings.service_label
    rows = [
        {"service": s, "metric": m, "template": t, "query": render_query(t, s, label)}
        for s in services
        for m, t in settings.templates.items()
    ]
    with PrometheusClient(settings, env=env) as client:

        def run(row: dict) -> dict:
            # One series per label set: chunks of a long range repeat their edge points.
            seen: dict[tuple, set[float]] = {}
            try:
                for lo, hi in client.chunks(start, end):
                    for series in client.matrix(row["query"], lo, hi, f"{row['metric']} of {row['service']}"):
                        labels = tuple(sorted(series.get("metric", {}).items()))
                        seen.setdefault(labels, set()).update(float(p[0]) for p in series.get("values", []))
            except QueryRejected as exc:
                return {**row, "series": 0, "samples": 0, "problem": f"rejected: {exc.reason}"}
            found = [dict(labels) for labels in seen]
            return {**row, "series": len(seen), "samples": sum(map(len, seen.values())), "problem": problem(found, row["template"], label)}

        with ThreadPoolExecutor(max_workers=settings.parallel) as pool:
            checked = list(pool.map(run, rows))
    return [{k: v for k, v in row.items() if k != "template"} for row in checked]
