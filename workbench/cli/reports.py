"""The report verbs: ``report`` (run the notebooks), ``sample`` (the bundled data), ``params``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli._common import (
    load_config,
    parse_params,
    shown,
)

__all__ = ["register"]


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench.contracts import NotebookStatus
    from workbench.report.runner import run_report

    config = load_config(args.config)
    params = parse_params(args.param)
    if args.config and "config_path" not in params:
        params["config_path"] = str(Path(args.config).resolve())
    # Progress goes to stderr so stdout is just the report's path, for scripts and cron mail.
    result = run_report(
        config, notebooks=args.notebooks, parameters=params, run_id=args.run_id, log=lambda line: print(line, file=sys.stderr)
    )
    if not result.ok:
        failed = [nb for nb in result.notebooks if nb.status != NotebookStatus.OK]
        for nb in failed:
            print(f"FAILED {nb.name}: {nb.error}", file=sys.stderr)
            if nb.executed:
                print(f"  executed copy kept at {shown(result.folder / nb.executed)}", file=sys.stderr)
        print(f"run {result.run_id} failed; reports/latest still points at the last good run", file=sys.stderr)
        print(shown(result.index))
        return 1
    print(shown(config.path("reports") / "latest" / "index.html"))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from workbench.workflows.sample import prepare_sample

    config = load_config(args.config)
    path = prepare_sample(config, force=args.force, write_labels=args.write_labels)
    print(shown(path))
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    from workbench.report.params import discover_notebooks, notebook_parameters

    config = load_config(args.config)
    for path in discover_notebooks(config, args.notebooks):
        print(f"{path.stem}:")
        for name, spec in notebook_parameters(path).items():
            choices = f" (one of: {', '.join(spec['choices'])})" if spec["choices"] else ""
            print(f"  {name}: {spec['type']} = {spec['default']}  # {spec['help']}{choices}")
    return 0


def register(sub) -> None:
    """Add this module's verbs to the ``workbench`` parser's subcommands."""

    report = sub.add_parser("report", help="run the notebooks and render HTML reports")
    report.add_argument("--notebooks", nargs="+", metavar="NAME", help="notebooks to run, e.g. 01_explore or 01 (default: all)")
    report.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="notebook parameter; repeat for more")
    report.add_argument("--run-id", help="folder name of the run under reports/ (default: UTC time)")
    report.set_defaults(func=_cmd_report)

    sample = sub.add_parser("sample", help="generate the bundled sample data (cached under data/sample/)")
    sample.add_argument("--force", action="store_true", help="regenerate the metrics even if cached")
    sample.add_argument("--write-labels", action="store_true", help="also overwrite data/incidents.csv and data/events.csv")
    sample.set_defaults(func=_cmd_sample)

    params = sub.add_parser("params", help="list each notebook's parameters")
    params.add_argument("notebooks", nargs="*", help="notebooks (default: all)")
    params.set_defaults(func=_cmd_params)
