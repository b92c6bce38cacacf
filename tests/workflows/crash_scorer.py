"""Helper for ``test_score.py``'s crash test (not a test module): a pre-imported parent that
forks one real ``workbench`` CLI run per request, so the test can SIGKILL each run at a
random moment without paying the ~2 s of imports every time (the kills then land in the
scoring itself, not in ``import pandas``).

Protocol, one line each way (stdout is line-buffered by hand):

* the parent prints ``ready`` once its imports are done;
* the test writes a JSON list of CLI arguments (``["--config", ..., "score", ...]``);
* the parent forks a child that runs ``workbench.cli.main(argv)`` and ``os._exit``\\ s with
  its status; the parent prints ``pid <pid>``, waits for the child and prints
  ``exit <status>`` (negative: killed by that signal);
* end of input ends the parent.
"""

from __future__ import annotations

import json
import os
import sys

# What a score run imports, loaded once before any fork (shap alone takes ~2 s).
import shap  # noqa: F401

import workbench.cli
import workbench.detect.explain
import workbench.workflows.score


def _child(argv: list[str]) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        status = workbench.cli.main(argv)
    except BaseException:  # noqa: BLE001 - any failure must end the child, never return to the loop
        status = 99
    os._exit(status if isinstance(status, int) else 98)


def main() -> None:
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        argv = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(argv)
        out.write(f"pid {pid}\n")
        out.flush()
        _, status = os.waitpid(pid, 0)
        out.write(f"exit {os.waitstatus_to_exitcode(status)}\n")
        out.flush()


if __name__ == "__main__":
    main()
