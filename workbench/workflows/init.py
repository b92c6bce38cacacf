"""``workbench init``: a project for a team's own data, from their metrics file or their Prometheus.

From a file, it reads the file (CSV or Parquet, long or wide form, the file's own column and metric
names mapped as ``source.files`` describes), finds the services in it, checks the data as
every command will (impossible values, counters, time zones: :mod:`workbench.quality`),
and only then writes ``workbench.yaml``. From Prometheus, it lists the services (the values
of the service label), runs every metric's query for each over the last hour and prints
what each returns; a metric no service has is left out (``queries: {metric: null}``), any
other problem (several series, a rejected query) stops it. Either way the file holds:

- the services found, and ``source.kind: files`` with the file and its mapping, or
  ``source.kind: prometheus`` with the URL, query set and label;
- the other settings from the bundled sample's configuration (rules, model, routing,
  alerting, lifecycle, report), without the sample's per-service capacity sizes;
- the team's own, empty incident log and events calendar under ``data/`` (existing ones
  are kept): none of the sample's labels reaches a new project.

An existing ``workbench.yaml`` that configures the bundled sample is kept beside it as
``workbench.sample.yaml`` (``--config workbench.sample.yaml`` goes back to the sample);
one that configures a team's own source is replaced only with ``force`` and kept as
``workbench.yaml.bak``. Nothing is written when anything fails.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from workbench._secrets import redact
from workbench._util import atomic_write_text
from workbench.config import Config, load_config
from workbench.contracts import CANONICAL_METRICS, EVENT_COLUMNS, INCIDENT_COLUMNS
from workbench.errors import ConfigError, DataError
from workbench.settings.data import FilesSettings
from workbench.sources import load_metrics
from workbench.sources.files import read_table, to_long

__all__ = ["InitResult", "init_from_file", "init_from_prometheus"]

SAMPLE_COPY = "workbench.sample.yaml"


@dataclass
class InitResult:
    """What ``init`` found and wrote."""

    config: Path
    services: list[str]
    #: Per service: metric -> samples, and the time range.
    found: dict[str, dict] = field(default_factory=dict)
    kept_sample_as: Path | None = None
    backup: Path | None = None
    created: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "config": str(self.config), "services": self.services, "found": self.found,
            "kept_sample_as": str(self.kept_sample_as) if self.kept_sample_as else None,
            "backup": str(self.backup) if self.backup else None, "created": [str(p) for p in self.created],
        }


def _guess_form(frame: pd.DataFrame, settings: FilesSettings) -> str:
    cols = settings.columns
    return "long" if cols.metric in frame.columns and cols.value in frame.columns else "wide"


def _base_settings(root: Path) -> dict:
    """The settings a new project starts from: the bundled sample's, if it is here, else the defaults."""
    for name in ("workbench.yaml", SAMPLE_COPY):
        path = root / name
        if path.is_file():
            try:
                raw = yaml.safe_load(path.read_text())
            except yaml.YAMLError:
                continue
            if isinstance(raw, dict) and raw.get("source", {}).get("kind", "sample") == "sample":
                return raw
    return {}


def _messages(exc: ValueError) -> str:
    """A validation error's messages, without the input values pydantic echoes (a URL may hold a password)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in errors())
    return redact(str(exc))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


def init_from_file(
    root: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    form: str | None = None,
    columns: dict[str, str] | None = None,
    metrics: dict[str, str] | None = None,
    timezone: str | None = None,
    force: bool = False,
) -> InitResult:
    """Write ``root/workbench.yaml`` for the services in the metrics file ``path`` (see the module notes).

    Raises
    ------
    DataError
        The file cannot be read, has no usable rows, or breaks the data checks.
    ConfigError
        A mapping names an unknown column or metric, a service name is not usable, or
        ``workbench.yaml`` configures a team's own source and ``force`` is not given.
    """
    root = Path(root).resolve()
    path = Path(path) if Path(path).is_absolute() else Path.cwd() / path
    raw = read_table(path)
    files = {"path": _relative(path, root), "columns": columns or {}, "metrics": metrics or {}, "timezone": timezone}
    try:
        settings = FilesSettings(**{**files, "form": form or "long"})
        if form is None:
            settings = settings.model_copy(update={"form": _guess_form(raw, settings)})
    except ValueError as exc:
        raise ConfigError(f"source.files: {_messages(exc)}") from None
    services = sorted(to_long(raw, settings, path)["service"].dropna().astype(str).unique())
    if not services:
        raise DataError(f"{path}: no rows with a service")
    source = {"kind": "files", "files": settings.model_dump(mode="json", exclude_defaults=True) | {"path": files["path"]}}
    base, config = _project(root, services, source)
    result = InitResult(root / "workbench.yaml", services)
    frame = load_metrics(config)  # every check a command will make, before anything is written
    for service, rows in frame.groupby("service"):
        result.found[str(service)] = {
            "metrics": {str(m): int(n) for m, n in rows.groupby("metric").size().items()},
            "missing": [m for m in CANONICAL_METRICS if m not in set(rows["metric"])],
            "from": str(rows["timestamp"].min()), "to": str(rows["timestamp"].max()),
        }
    _write(root, base, config, files["path"], force, result)
    return result


def _write(root: Path, base: dict, config: Config, origin: str, force: bool, result: InitResult) -> None:
    """Keep the old workbench.yaml as the module notes say, write the new one, create empty label logs."""
    _make_room(root, force, result)
    header = (
        f"# Written by `workbench init` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC from {origin}.\n"
        f"# Every key is explained in the README and, with comments, in {SAMPLE_COPY} (the bundled sample's settings).\n"
        "# capacity.services is empty: add each service's provisioned CPU, memory and replicas to plan capacity.\n\n"
    )
    atomic_write_text(result.config, header + yaml.safe_dump(base, sort_keys=False))
    load_config(result.config)  # what was written loads
    for target, header_columns in ((config.path("incidents"), INCIDENT_COLUMNS), (config.path("events"), EVENT_COLUMNS)):
        if not target.exists():
            atomic_write_text(target, ",".join(header_columns) + "\n")
            result.created.append(target)


def _project(root: Path, services: list[str], source: dict) -> tuple[dict, Config]:
    """The new settings (the sample's, with these services and this source) and their validated Config."""
    base = _base_settings(root)
    base.update(services=services)
    base.setdefault("source", {}).update(source)
    base.setdefault("paths", {}).update(incidents="data/incidents.csv", events="data/events.csv")
    if "capacity" in base:
        base["capacity"]["services"] = {}  # the sample's sizes name the sample's services
    try:
        return base, Config(**base, root=root)
    except ValueError as exc:
        raise ConfigError(f"the configuration would not be valid: {_messages(exc)}") from None


def init_from_prometheus(
    root: str | os.PathLike[str],
    url: str,
    *,
    label: str = "service",
    query_set: str = "http_client",
    queries: dict[str, str | None] | None = None,
    force: bool = False,
    now: pd.Timestamp | None = None,
    env=None,
) -> InitResult:
    """Write ``root/workbench.yaml`` for the services a Prometheus at ``url`` knows (see the module notes).

    ``found`` holds, per service, each metric's ``query``, ``series``, ``samples`` and
    ``problem`` over the last hour before ``now``.

    Raises
    ------
    ConfigError
        No values of ``label`` (the wrong label?), a service name the workbench cannot
        use, a bad query set, or an existing own ``workbench.yaml`` without ``force``.
    DataError
        A query gives several series or is rejected: the message lists each problem.
    PrometheusError
        The server could not be reached.
    """
    from workbench.settings.data import PrometheusSettings
    from workbench.sources.prometheus import check_queries, discover_services

    root = Path(root).resolve()
    prom = {"url": url, "service_label": label, "query_set": query_set, "queries": dict(queries or {})}
    try:
        settings = PrometheusSettings(**prom)
    except ValueError as exc:
        raise ConfigError(f"source.prometheus: {_messages(exc)}") from None
    found = discover_services(settings, env=env)
    if not found:
        raise ConfigError(f"Prometheus at {url} has no series with a `{label}` label: which label names your services? (--service-label)")
    end = (now or pd.Timestamp.now(tz="UTC")).floor("1min")
    rows = check_queries(settings, found, end - pd.Timedelta("1h"), end, env=env)
    empty = {m for m in settings.templates if all(r["series"] == 0 for r in rows if r["metric"] == m)}
    bad = [r for r in rows if r["problem"] and r["metric"] not in empty]
    if bad:
        lines = "\n".join(f"  {r['service']} {r['metric']}: {r['problem']}\n    {r['query']}" for r in bad[:12])
        raise DataError(f"these queries need fixing before a project can use them (nothing was written):\n{lines}")
    if len(empty) == len(settings.templates):
        raise DataError(f"no query returned data for any service in the last hour: is {url} scraping them, and is `{label}` the label?")
    prom["queries"] = {**prom["queries"], **{m: None for m in sorted(empty)}}
    base, config = _project(root, found, {"kind": "prometheus", "prometheus": prom})
    result = InitResult(root / "workbench.yaml", found)
    for service in found:
        mine = [r for r in rows if r["service"] == service]
        result.found[service] = {
            "metrics": {r["metric"]: r["samples"] for r in mine if r["series"]},
            "missing": [r["metric"] for r in mine if not r["series"]],
            "from": str(end - pd.Timedelta("1h")), "to": str(end),
        }
    _write(root, base, config, url, force, result)
    return result


def _make_room(root: Path, force: bool, result: InitResult) -> None:
    """Keep the existing workbench.yaml: the sample's beside it, a team's only with ``force`` (as .bak)."""
    current = root / "workbench.yaml"
    if not current.is_file():
        return
    try:
        raw = yaml.safe_load(current.read_text())
    except yaml.YAMLError:
        raw = None
    is_sample = isinstance(raw, dict) and raw.get("source", {}).get("kind", "sample") == "sample"
    if is_sample:
        target = root / SAMPLE_COPY
        if not target.exists():
            shutil.copy2(current, target)
            result.kept_sample_as = target
        return
    if not force:
        raise ConfigError(
            f"{current} already configures your own source; nothing was written. Use --force to replace it "
            "(it is kept as workbench.yaml.bak)"
        )
    result.backup = root / "workbench.yaml.bak"
    shutil.copy2(current, result.backup)
