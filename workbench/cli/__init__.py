"""The ``workbench`` command: thin verbs over the package, one module per group of verbs.

Exit codes: 0 success, 1 a run that finished with a failure (a notebook failed, a
source or store could not be reached, another run holds the lock), 2 bad input
(configuration, parameters, data) reported before anything ran.

Heavy modules are imported inside each verb, so ``workbench --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from workbench import __version__
from workbench._secrets import redact
from workbench.cli.analysis import register as analysis_verbs
from workbench.cli.live import register as live_verbs
from workbench.cli.models import register as model_verbs
from workbench.cli.project import register as project_verbs
from workbench.cli.reports import register as report_verbs
from workbench.errors import WorkbenchError

__all__ = ["EXIT_CODES", "build_parser", "main"]

#: What each exit status means; ``--help`` prints it.
EXIT_CODES = {
    0: "success",
    1: "a run failed (a notebook failed; a source or store could not be reached; another run holds the lock)",
    2: "bad input or configuration, reported before anything ran",
}


def build_parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="aiops-workbench: cut alert noise without missing incidents.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", help="workbench.yaml to use (default: the project's, or $WORKBENCH_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in (project_verbs, report_verbs, analysis_verbs, model_verbs, live_verbs):
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    import warnings

    args = build_parser().parse_args(argv)

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        # A warning is for the person running the command: what and where, not our source line.
        print(f"workbench {args.command}: warning: {redact(str(message))}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        try:
            return args.func(args)
        except WorkbenchError as exc:
            # Masked here too: a message built from a URL or a server's answer may hold a credential.
            print(f"workbench {args.command}: error: {redact(str(exc))}", file=sys.stderr)
            return exc.exit_status
