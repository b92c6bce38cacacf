"""How often the business review claims a change: with none (it must not), and with a real one
(it should); writes its section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_business.py              # 1,000 simulations per row
    .venv/bin/python benchmarks/bench_business.py --runs 200 --no-write

Each simulation draws the old and the new system from stated processes and asks
:func:`workbench.evaluate.estimates.compare_figure` (the comparison 09 shows) for its verdict:

* **pages a week**: weekly page counts, Poisson; over 7 weeks (the sample's replay) and 26;
* **median time to detect**: per incident, log-normal minutes (median 20, sigma 1), 10 % of
  incidents missed by each system (NaN); over 30 incidents (the sample's) and 100.

With **no change** (old and new from the same process) the share of runs called "better" must
stay at or below 5 % (issue 15); with a **real change** (pages 30 -> 20 a week; median time to
detect 20 -> 10 minutes) the share called "better" is the comparison's power at that size.
The golden data set, where every business figure matches a hand calculation, is a test:
``.venv/bin/python -m pytest tests/evaluate/test_business.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_report import machine, write_section  # noqa: E402

from workbench.evaluate.estimates import compare_figure  # noqa: E402

BEGIN, END = "<!-- business:begin -->", "<!-- business:end -->"

#: (figure, size, old process, new process): what each row simulates.
CASES = [
    ("pages a week", 7, 30.0, 30.0),
    ("pages a week", 26, 30.0, 30.0),
    ("median time to detect", 30, 20.0, 20.0),
    ("median time to detect", 100, 20.0, 20.0),
    ("pages a week", 7, 30.0, 20.0),
    ("pages a week", 26, 30.0, 20.0),
    ("median time to detect", 30, 20.0, 10.0),
    ("median time to detect", 100, 20.0, 10.0),
]


def verdicts(figure: str, size: int, old_level: float, new_level: float, runs: int) -> dict[str, float]:
    """The share of ``runs`` seeded simulations with each verdict."""
    counts: dict[str, int] = {}
    for seed in range(runs):
        rng = np.random.default_rng([seed, size, int(old_level), int(new_level)])
        if figure == "pages a week":
            old, new = rng.poisson(old_level, size).astype(float), rng.poisson(new_level, size).astype(float)
            result = compare_figure(old, new, stat="rate", unit="weeks", weeks=np.ones(size), seed=seed)
        else:
            old = rng.lognormal(np.log(old_level), 1.0, size)
            new = rng.lognormal(np.log(new_level), 1.0, size)
            old[rng.random(size) < 0.1] = np.nan
            new[rng.random(size) < 0.1] = np.nan
            result = compare_figure(old, new, stat="median", unit="incidents", seed=seed)
        word = "not enough to tell" if result.verdict.startswith("not enough") else result.verdict
        counts[word] = counts.get(word, 0) + 1
    return {k: v / runs for k, v in counts.items()}


def section(rows: list[tuple], runs: int, elapsed: float) -> list[str]:
    m = machine()
    lines = [
        BEGIN,
        "## Business figures: claims of change (issue 15)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_business.py` ({elapsed:.0f} s). Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{m['cpu']}, {m['cores']} cores, {m['memory']}; Python {m['python']}; {m['packages']}.",
        "",
        f"{runs:,} seeded simulations per row; the comparison is 09's (paired bootstrap of the change, expanded-percentile 95 % interval, "
        "no verdict below 4 weeks or incidents). Pages: Poisson weeks; time to detect: log-normal minutes (sigma 1), 10 % missed per system.",
        "",
        "| figure | over | old | new | called better | called worse | not enough to tell | goal |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for figure, size, old, new, shares in rows:
        unit = "weeks" if figure == "pages a week" else "incidents"
        goal = "better at most 5 %" if old == new else "(power)"
        lines.append(
            f"| {figure} | {size} {unit} | {old:g} | {new:g} | **{shares.get('better', 0):.1%}** | {shares.get('worse', 0):.1%} | "
            f"{shares.get('not enough to tell', 0):.1%} | {goal} |"
        )
    lines += ["", "The golden data set (every figure against a hand calculation) is `tests/evaluate/test_business.py`.", END]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="simulations per row (default 1,000)")
    parser.add_argument("--no-write", action="store_true", help="print the section; leave RESULTS.md alone")
    args = parser.parse_args()
    start = time.perf_counter()
    rows = [(figure, size, old, new, verdicts(figure, size, old, new, args.runs)) for figure, size, old, new in CASES]
    lines = section(rows, args.runs, time.perf_counter() - start)
    print("\n".join(lines) if args.no_write else write_section(BEGIN, END, lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
