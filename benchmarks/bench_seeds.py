"""Does the sample result hold beyond the seed it was built on? The evaluation on several
draws of the sample; writes its section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_seeds.py               # the development seeds
    .venv/bin/python benchmarks/bench_seeds.py --untouched   # the held-back seeds too (see below)

Each seed is a new 60-day sample of the six services, with its own incidents, deploys and
campaigns (``workbench evaluate --seeds``), evaluated like the default one: every week scored
by a model trained on the 28 days before it. Per seed: the hybrid against the old thresholds
(fewer alerts, false-positive share, missed incidents, median time to detect), and the hybrid's
false alarms by likely cause and misses by kind (:mod:`workbench.evaluate.diagnose`).

The development seeds (7, the default, and 11, 13, 17, 19) are for finding out what goes wrong
and trying fixes. The untouched seeds (101, 103, 107, 109) were held back until the fixes then
in hand were done, and run once on 2026-11-29 (commit de165ad); nothing was changed after seeing
them. They stay reported and are never used to find or try a fix. Because they have now been
seen, the next fix is also judged on a fresh held-back set, :data:`NEXT_HELD_BACK`, run once
when that fix is done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_report import machine, write_section  # noqa: E402

from workbench.config import load_config  # noqa: E402
from workbench.workflows.seeds import evaluate_seeds, seeds_table  # noqa: E402

BEGIN, END = "<!-- seeds:begin -->", "<!-- seeds:end -->"
DEV_SEEDS = (7, 11, 13, 17, 19)
UNTOUCHED_SEEDS = (101, 103, 107, 109)
#: Never run yet: the held-back set for the next fix (the untouched seeds above have been seen).
NEXT_HELD_BACK = (201, 203, 207, 209)
#: What the untouched seeds' run was, in the section under their table.
UNTOUCHED_NOTE = (
    "Run once on 2026-11-29 (commit de165ad), after the kept fixes below; nothing was changed after seeing them. They stay "
    "reported and are never used to find or try a fix; the next fix is also judged on seeds {next}, not run yet."
)
#: Changes tried on the development seeds, kept or not, with what they did there (false
#: positives and misses per seed 7/11/13/17/19, against the code of their day). Kept here so
#: nobody tries them again blind; none was tried on the untouched seeds.
TRIED = [
    "**Kept**: one model window alone alerts at confidence 99.99 or more (`routing.alone_confidence`): median time to detect "
    "30/29/30/26/34 -> 16/24/24/12/20 min, false positives unchanged but seed 17 (20 -> 22 %).",
    "Not kept: the same at 99: 15/14/19/12/20 min, but false positives 1 to 4 points higher.",
    "**Kept**: the forest tail's shape floored at -0.3 (chosen on `bench_calibration.py`'s development seeds): false positives "
    "unchanged but seed 17 (22 -> 18 %), no miss added.",
    "Not kept: re-baselining latency, CPU and memory after each deploy while scoring (the median residual since the latest deploy "
    "at least 12 h old, over up to 24 h): false positives 17/28/27/16/18 % (were 23/26/32/22/16), misses 1/0/1/2/1 (were "
    "0/0/1/1/0: a latency creep and a memory leak absorbed).",
    "Not kept: a training-time level (those metrics against their last 3 training days): false positives 22/28/35/13/18 %, "
    "misses 1/0/1/2/1.",
    "Not kept: a window's error rate as the median of its minutes instead of the mean (blips hidden from the model): false "
    "positives 25/28/37/22/22 % (were 23/26/32/18/16), misses 0/0/2/1/0.",
    "Not kept: the sustained deviation over 30 minutes instead of an hour (partial outages seen sooner): median time to detect "
    "16/20/26/12/20 min, false positives 23/23/33/15/16 %, but a miss added on seed 11 (misses 0/1/1/1/0).",
    "Not kept: both, the 30-minute one as an extra feature: false positives 21/26/32/18/16 %, time to detect and misses unchanged.",
]
#: The issue's bar for every reported seed (issue 16's "done when").
GOALS = "at least 68 % fewer alerts, at most 12 % false positives, none missed, median time to detect at most 20 minutes"


def _pct(v) -> str:
    return "-" if v != v else f"{v:.0%}"


def _num(v, digits: int = 1) -> str:
    return "-" if v is None or v != v else f"{v:.{digits}f}"


def table_lines(results) -> list[str]:
    table = seeds_table(results)
    lines = [
        "| seed | incidents | alerts / week, old | alerts / week, hybrid | fewer alerts | false positives | missed | TTD median (min) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row[0]} | {_num(row[1], 0)} | {_num(row[2])} | {_num(row[3])} | {_pct(row[4])} | **{_pct(row[5])}** | {_num(row[6], 0)} | {_num(row[7], 0)} |"
        )
    lines += ["", "The hybrid's false alarms by likely cause, and its misses by kind:", "", "| seed | false alarms by cause | missed by kind |", "| --- | --- | --- |"]
    lines += [f"| {r.seed} | {r.causes_words()} | {r.missed_words()} |" for r in results]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--untouched", action="store_true", help="also run the untouched seeds (reported, never tuned on)")
    parser.add_argument("--no-write", action="store_true", help="print the section; leave RESULTS.md alone")
    args = parser.parse_args()
    config = load_config(ROOT / "workbench.yaml")
    start = time.perf_counter()
    dev = evaluate_seeds(config, list(DEV_SEEDS))
    untouched = evaluate_seeds(config, list(UNTOUCHED_SEEDS)) if args.untouched else None
    m = machine()
    lines = [
        BEGIN,
        "## The sample result across seeds (issue 16)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_seeds.py{' --untouched' if args.untouched else ''}` ({time.perf_counter() - start:.0f} s). "
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {m['cpu']}, {m['cores']} cores, {m['memory']}; Python {m['python']}.",
        "",
        f"Goal on every reported seed: {GOALS}. Each seed is its own 60-day sample with its own incidents.",
        "",
        f"### Development seeds ({', '.join(map(str, DEV_SEEDS))})",
        "",
        *table_lines(dev),
        "",
        f"### Untouched seeds ({', '.join(map(str, UNTOUCHED_SEEDS))})",
        "",
    ]
    if untouched:
        lines += [UNTOUCHED_NOTE.format(next=", ".join(map(str, NEXT_HELD_BACK))), "", *table_lines(untouched)]
    else:
        lines += ["Not run in this measurement (`--untouched` runs them)."]
    lines += ["", "### Tried on the development seeds", "", *[f"- {t}" for t in TRIED]]
    lines.append(END)
    print("\n".join(lines) if args.no_write else write_section(BEGIN, END, lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
