"""Time the whole report suite on the sample data and record the figures in RESULTS.md.

    .venv/bin/python benchmarks/bench_report.py [--repeat 3]

Measures, on this machine:
  * sample generation (cold, in-process) and the Parquet write;
  * the fixed cost of one notebook: a kernel start and a trivial cell, via papermill;
  * `workbench report` end to end as a user runs it (a new process each time), repeated;
  * each notebook's share, from the run's run.json;
  * Python import times of what a kernel loads (workbench, papermill, jsonschema's rfc3987_syntax).
The section between the markers in RESULTS.md is replaced; other sections are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- report-suite:begin -->", "<!-- report-suite:end -->"
TARGET_SECONDS = 60.0


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{mem_kb / 1024**2:.1f} GiB"
    except (OSError, AttributeError):
        memory = "unknown"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": ", ".join(f"{p} {version(p)}" for p in ("pandas", "numpy", "matplotlib", "papermill", "nbconvert", "ipykernel")),
    }


def write_section(begin: str, end: str, lines: list[str]) -> str:
    """Replace the text between ``begin`` and ``end`` in RESULTS.md (or append it); return it.

    ``lines`` starts with ``begin`` and ends with ``end``; other sections are kept.
    """
    section = "\n".join(lines)
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n\nEach section is written by the command it names; rerun it to refresh.\n"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
    return section


def import_seconds(module: str) -> float:
    """Wall time of `python -c 'import module'` minus a bare interpreter start."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        return time.perf_counter() - start

    bare = min(run("pass") for _ in range(3))
    return max(0.0, min(run(f"import {module}") for _ in range(3)) - bare)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="end-to-end runs of `workbench report`")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from workbench.config import load_config
    from workbench.report.runner import run_report
    from workbench.sources.sample import generate

    config = load_config(ROOT / "workbench.yaml")
    print("sample generation ...", file=sys.stderr)
    start = time.perf_counter()
    data = generate(config.source.sample, list(config.services))
    gen_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        data.metrics.to_parquet(Path(tmp) / "m.parquet", index=False)
        write_seconds = time.perf_counter() - start

    print("fixed cost of one notebook ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        from tests.conftest import (
            make_project,  # the same throwaway project the tests use
        )

        trivial = load_config(make_project(Path(tmp) / "p", notebooks=ROOT / "tests" / "notebooks"))
        costs = []
        for k in range(3):
            result = run_report(trivial, notebooks=["03"], run_id=f"t{k}", log=lambda *_: None)
            costs.append(result.notebooks[0].seconds)
        fixed = min(costs)

    print("end-to-end runs ...", file=sys.stderr)
    walls, per_notebook = [], {}
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for k in range(args.repeat):
        run_id = f"bench-{stamp}-{k}"
        start = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "workbench"), "report", "--run-id", run_id], cwd=ROOT, check=True, capture_output=True
        )
        walls.append(time.perf_counter() - start)
        run = json.loads((config.path("reports") / run_id / "run.json").read_text())
        for nb in run["notebooks"]:
            per_notebook.setdefault(nb["name"], []).append(nb["seconds"])

    imports = {m: import_seconds(m) for m in ("workbench", "papermill", "rfc3987_syntax", "shap")}
    facts = machine()
    median = statistics.median(walls)
    verdict = "meets" if median <= TARGET_SECONDS else "misses"
    lines = [
        BEGIN,
        "## Report suite on the sample data (issue 2)",
        "",
        "Command: `make bench` (or `.venv/bin/python benchmarks/bench_report.py --repeat 3`).",
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on: {facts['cpu']}, {facts['cores']} cores, "
        f"{facts['memory']}; {facts['os']}; Python {facts['python']}; {facts['packages']}.",
        "",
        "| what | seconds |",
        "| --- | ---: |",
        f"| `workbench report`, whole suite, wall (median of {len(walls)}) | **{median:.1f}** |",
        f"| ... fastest / slowest run | {min(walls):.1f} / {max(walls):.1f} |",
    ]
    for name, seconds in per_notebook.items():
        lines.append(f"| ... {name} (median, as run.json records it) | {statistics.median(seconds):.1f} |")
    lines += [
        f"| fixed cost of any notebook: kernel start + one trivial cell (best of 3) | {fixed:.1f} |",
        f"| sample generation, 6 services x 60 days x 1 min, cold | {gen_seconds:.1f} |",
        f"| writing it as Parquet ({len(data.metrics):,} rows) | {write_seconds:.1f} |",
    ]
    for module, seconds in imports.items():
        lines.append(f"| `import {module}` in a fresh interpreter | {seconds:.2f} |")
    lines += [
        "",
        f"Target: the suite in at most {TARGET_SECONDS:.0f} s wall on 2 cores; this run **{verdict}** it. "
        "The first `workbench report` on a new clone also generates the sample (the generation row above) once.",
        END,
    ]
    print(write_section(BEGIN, END, lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
