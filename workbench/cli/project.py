"""The project's verbs: ``init`` (a ``workbench.yaml`` for a team's own data)."""

from __future__ import annotations

import argparse

from workbench.cli._common import add_json, shown
from workbench.errors import ParameterError

__all__ = ["register"]


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for value in values or []:
        key, sep, target = value.partition("=")
        if not sep or not key.strip() or not target.strip():
            raise ParameterError(f"{what} takes NAME=VALUE, got {value!r}")
        out[key.strip()] = target.strip()
    return out


def _cmd_init(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from workbench.config import find_root
    from workbench.errors import ConfigError
    from workbench.workflows.init import init_from_file

    try:
        root = Path(args.root) if args.root else find_root()
    except ConfigError:  # no project yet: this folder becomes one
        root = Path.cwd()
    if args.from_prometheus:
        from workbench.workflows.init import init_from_prometheus

        result = init_from_prometheus(root, args.from_prometheus, label=args.service_label, query_set=args.query_set, force=args.force)
    else:
        result = init_from_file(
            root, args.from_file, form=args.form, columns=_pairs(args.column, "--column"), metrics=_pairs(args.metric, "--metric"),
            timezone=args.timezone, force=args.force,
        )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0
    print(f"wrote {shown(result.config)} for {len(result.services)} services: {', '.join(result.services)}")
    for service, found in result.found.items():
        metrics = ", ".join(f"{m} {n:,}" for m, n in found["metrics"].items()) or "no samples"
        span = f"{found['from'][:16]} to {found['to'][:16]} UTC"
        print(f"  {service}: {metrics} samples, {span}")
        if found["missing"]:
            print(f"    no {', '.join(found['missing'])}: the rules and features that need them stay silent for {service}")
    if args.from_prometheus:
        print("check the queries any time with: workbench pull --check; then fill the store: workbench pull")
    if result.kept_sample_as:
        print(f"the sample's settings are kept in {shown(result.kept_sample_as)} (--config {result.kept_sample_as.name} goes back to it)")
    if result.backup:
        print(f"the previous workbench.yaml is kept as {shown(result.backup)}")
    for path in result.created:
        what = "label incidents in 02_label_incidents" if "incident" in path.name else "add deploys, campaigns and maintenance"
        print(f"created {shown(path)} (empty: {what})")
    print("next: workbench report")
    return 0


def register(sub) -> None:
    """Add this module's verbs to the ``workbench`` parser's subcommands."""
    init = sub.add_parser("init", help="write workbench.yaml for your own services, from a metrics file or a Prometheus")
    origin = init.add_mutually_exclusive_group(required=True)
    origin.add_argument("--from-file", "--from-csv", dest="from_file", metavar="PATH",
                        help="CSV or Parquet: long (timestamp, service, metric, value) or wide (timestamp, service, one column per metric)")
    origin.add_argument("--from-prometheus", metavar="URL",
                        help="a Prometheus: services are the values of --service-label; credentials from the environment")
    init.add_argument("--service-label", default="service", help="with --from-prometheus: the label naming your services (default service)")
    init.add_argument("--query-set", default="http_client", help="with --from-prometheus: http_client, cadvisor or node_exporter")
    init.add_argument("--form", choices=["long", "wide"], help="default: long if the file has metric and value columns, else wide")
    init.add_argument("--column", action="append", metavar="FIELD=NAME",
                      help="the file's column for timestamp, service, metric or value, e.g. --column timestamp=time (repeatable)")
    init.add_argument("--metric", action="append", metavar="NAME=CANONICAL",
                      help="the file's metric name for a canonical one, e.g. --metric p95_ms=latency_p95 (repeatable)")
    init.add_argument("--timezone", help="IANA zone of timestamps written without an offset (default UTC)")
    init.add_argument("--root", help="project folder (default: the current project, else this folder)")
    init.add_argument("--force", action="store_true", help="replace a workbench.yaml that configures your own source (kept as .bak)")
    add_json(init)
    init.set_defaults(func=_cmd_init)
