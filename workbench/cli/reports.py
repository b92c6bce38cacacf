"""The report verbs: ``report`` (run the notebooks), ``sample`` (the bundled data), ``params``."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import sys

from workbench.cli._common import (
    load_config,
    parse_params,
    shown,
)

__all__ = ["register"]


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from workbench._secrets import redact

        return redact(super().format(record))


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench._secrets import redact
    from workbench.contracts import NotebookStatus
    from workbench.report.runner import RunInterrupted, run_report

    stamped = _timestamps_wanted()

    def say(line: str) -> None:
        stamp = f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ} " if stamped else ""
        print(redact(stamp + line), file=sys.stderr)

    # Everything this command prints goes through redact(): a credential in the environment
    # (WORKBENCH_PROMETHEUS_URL) can surface in a message, a warning or a kernel's output.
    # (Warnings and errors are masked by the CLI's main() for every command.)
    # Libraries' log records (papermill, nbclient) would reach stderr through logging's
    # last-resort handler, unmasked: this handler takes their place while the run lasts.
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_RedactingFormatter("%(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        config = load_config(args.config)
        params = parse_params(args.param)
        # Progress goes to stderr so stdout is just the report's path, for scripts and cron mail.
        # The notebooks load the config this run loaded: the runner gives their kernels
        # WORKBENCH_CONFIG, however the file was chosen (--config, $WORKBENCH_CONFIG, default).
        from workbench.workflows.preflight import check_ready

        # Everything a run needs is checked once, up front: a bad default fails in seconds,
        # not notebook after notebook.
        result = run_report(config, notebooks=args.notebooks, parameters=params, run_id=args.run_id, log=say, keep=args.keep, ready=check_ready)
    except RunInterrupted as exc:
        where = f"run {exc.result.run_id} recorded as interrupted in {shown(exc.result.folder)}; " if exc.result else ""
        say(f"workbench report: interrupted by {signal.Signals(exc.signum).name}; {where}reports/latest unchanged")
        return exc.exit_status
    except KeyboardInterrupt:  # Ctrl-C before the run started: nothing to record
        say("workbench report: interrupted before the run started; nothing was written")
        return 130
    finally:
        logging.getLogger().removeHandler(handler)
    if not result.ok:
        failed = [nb for nb in result.notebooks if nb.status != NotebookStatus.OK]
        for nb in failed:
            say(f"FAILED {nb.name}: {nb.error}")
            if nb.executed:
                say(f"  executed copy kept at {shown(result.folder / nb.executed)}")
        say(f"run {result.run_id} failed; reports/latest still points at the last good run")
        print(shown(result.index))
        return 1
    if not result.moves_latest:  # a partial run: it succeeded, but is not the whole suite
        say(f"run {result.run_id} succeeded; a partial run ({', '.join(result.planned)}), so reports/latest is unchanged")
        print(shown(result.index))
        return 0
    say(f"run {result.run_id} succeeded; reports/latest points at it")
    print(shown(config.path("reports") / "latest" / "index.html"))
    return 0


def _timestamps_wanted() -> bool:
    """Stamp progress lines with the time unless a person watches them or the journal stamps them.

    Cron mails whatever a job printed, and a log file needs the time of each line; a
    terminal does not, and the journal (systemd sets ``JOURNAL_STREAM`` to the device and
    inode of the stream it connected) adds its own.
    """
    import os

    try:
        if sys.stderr.isatty():
            return False
        stat = os.fstat(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # a replaced stderr (a test's capture) has no descriptor
        return True
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    return f"{stat.st_dev}:{stat.st_ino}" != f"{device}:{inode}"


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
    report.add_argument(
        "--run-id", help="folder name of the run under reports/ (default: UTC time); a taken one gets a suffix: NAME-2, NAME-3 ..."
    )
    report.add_argument(
        "--keep", type=int, metavar="N", help="after the run, remove the oldest runs beyond N, never latest's (default: report.keep)"
    )
    report.set_defaults(func=_cmd_report)

    sample = sub.add_parser("sample", help="generate the bundled sample data (cached under data/sample/)")
    sample.add_argument("--force", action="store_true", help="regenerate the metrics even if cached")
    sample.add_argument("--write-labels", action="store_true", help="also write the sample's labels over the configured incident log and events calendar (paths.incidents, paths.events)")
    sample.set_defaults(func=_cmd_sample)

    params = sub.add_parser("params", help="list each notebook's parameters")
    params.add_argument("notebooks", nargs="*", help="notebooks (default: all)")
    params.set_defaults(func=_cmd_params)
