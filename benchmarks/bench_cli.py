"""Time the command line's start-up and record it in RESULTS.md.

    .venv/bin/python benchmarks/bench_cli.py [--repeat 3]

Measures, each in a new process as a user or cron starts it (median of ``--repeat``):
  * ``python -c pass`` (the interpreter alone, the floor);
  * ``python -c "import workbench"`` (the lazy front door);
  * ``workbench --help`` and ``workbench --version``;
and lists which heavy modules ``import workbench`` loaded (none is the design).
The section between the markers in RESULTS.md is replaced; other sections are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- cli:begin -->", "<!-- cli:end -->"
TARGET_SECONDS = 1.0
HEAVY = ("matplotlib", "sklearn", "statsmodels", "shap", "ipywidgets", "pandas", "papermill")


def wall(command: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    cli = str(Path(python).parent / "workbench")
    rows = {
        "`python -c pass`": wall([python, "-c", "pass"], args.repeat),
        "`python -c \"import workbench\"`": wall([python, "-c", "import workbench"], args.repeat),
        "`workbench --help`": wall([cli, "--help"], args.repeat),
        "`workbench --version`": wall([cli, "--version"], args.repeat),
    }
    code = f"import sys, workbench; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout.strip() or "none"
    facts = machine()
    help_median = statistics.median(rows["`workbench --help`"])
    verdict = "meets" if help_median < TARGET_SECONDS else "misses"
    lines = [
        BEGIN,
        "## Command-line start-up (issue 10)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_cli.py --repeat {args.repeat}` (each a new process).",
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on: {facts['cpu']}, {facts['cores']} cores, "
        f"{facts['memory']}; {facts['os']}; Python {facts['python']}.",
        "",
        f"| what | median of {args.repeat}, seconds | fastest / slowest |",
        "| --- | ---: | ---: |",
    ]
    for name, times in rows.items():
        lines.append(f"| {name} | **{statistics.median(times):.3f}** | {min(times):.3f} / {max(times):.3f} |")
    lines += [
        "",
        f"Heavy modules loaded by `import workbench`: {loaded} (checked among {', '.join(HEAVY)}).",
        f"Target: `workbench --help` under {TARGET_SECONDS:.0f} s; this run **{verdict}** it. "
        "Before the stage packages (issue 10), `import workbench` loaded matplotlib, seaborn, ipywidgets, scikit-learn "
        "and statsmodels: 2.27 s in the report-suite section's measurement of 2026-11-27.",
        END,
    ]
    print(write_section(BEGIN, END, lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
