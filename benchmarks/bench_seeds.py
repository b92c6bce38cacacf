"""Does the sample result hold beyond the seed it was built on? The evaluation on several
draws of the sample; writes its section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_seeds.py              # development and held-back seeds; writes RESULTS.md
    .venv/bin/python benchmarks/bench_seeds.py --dev-only   # the development seeds, printed only (while trying a fix)

Each seed is a new 60-day sample of the six services, with its own incidents, deploys and
campaigns (``workbench evaluate --seeds``), evaluated like the default one: every week scored
by a model trained on the 28 days before it. Per seed: the hybrid against the old thresholds
(fewer alerts, false-positive share, missed incidents, median time to detect), and the hybrid's
false alarms by likely cause and misses by kind (:mod:`workbench.evaluate.diagnose`).

The development seeds (7, the default, and 11, 13, 17, 19) are for finding out what goes wrong
and trying fixes. Other seeds are held back, each set until a fix is done, then run once and
reported from then on, never used to find or try a fix (:data:`HELD_BACK`, with when each was
first run). The next fix is judged on the development seeds, the sets already reported and a
fresh set, :data:`NEXT_HELD_BACK`, that nobody has run.
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
#: Held-back seed sets, in the order they were first run: (seeds, what the first run was).
HELD_BACK = [
    ((101, 103, 107, 109), "first run on 2026-11-29 at commit de165ad, after the kept fixes below up to the calibration's floor"),
    ((201, 203, 207, 209), "first run on 2026-11-29 after the window-slot baselines"),
    ((401, 403, 407, 409), "first run on 2026-11-29 after the spreads learnt over every day"),
    ((501, 503, 507, 509), "first run on 2026-11-29 after the sample's rates became 5-minute rates (the last kept change below)"),
]
#: Never run yet: the held-back set for the next fix. (301, 303, 307 and 309 were run once, on 2026-11-29,
#: with a change that was not kept, the 5-minute rates below: seen, so no longer held back.)
NEXT_HELD_BACK = (601, 603, 607, 609)
#: Changes tried on the development seeds, kept or not, with what they did there (false
#: positives and misses per seed 7/11/13/17/19, against the code of their day). Kept here so
#: nobody tries them again blind. None was tried on a held-back seed but the 5-minute rates, whose entry says what that spent.
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
    "**Kept**: slot baselines per window of the day (weekday or weekend, pooled over half an hour either side) instead of per "
    "hour, so a level that moves through the hour (the evening decline) is judged at its own time: misses 0/0/1/1/0 -> 0/0/0/0/0 "
    "(two traffic drops during an evening decline, read under 2 robust sigmas before), false positives 23/26/32/18/16 -> "
    "23/28/33/17/20 %, median time to detect 16/24/24/12/20 -> 16/14/27/12/20 min. By the config's cost weights (a missed "
    "incident costs 20 false alerts) a clear gain; the false positives are the price. On the held-back seeds 101/103/107/109, "
    "already reported and not tuned on: false positives 37/16/24/28 -> 37/9/24/24 %, misses 1/0/0/2 -> 1/0/0/1, median time to "
    "detect 34/18/25/17 -> 34/18/17/15 min.",
    "Not kept (yet), a change to the data, not the detector: the sample's rates as the documented Prometheus queries return "
    "them, 5-minute rates sampled once a minute (they are per-minute ratios, so the critical error rule pages on "
    "self-healing blips it would not see over `rate(...[5m])`). On the development seeds false positives 23/28/33/17/20 -> "
    "25/11/24/17/18 %, none missed, median time to detect 16/14/27/12/20 -> 15/24/27/19/20 min. But on the held-back "
    "seeds (run with it, not tuned on) the brief rule pages fell from 25 to 8 while the model's other false alarms rose from "
    "27 to 43: false positives 37/9/24/24 -> 45/16/15/26 % (101-109) and 11/22/19/14 -> 18/19/17/12 % (201-209). The "
    "fidelity argument stands; why the model errs more on smoother data is the open question. Seeds 301-309 were first run "
    "with it (20/26/18/21 %, one miss), so they are no longer held back.",
    "Not kept: cross-fitted baselines (each training window's features against slot medians learnt without its own block "
    "of days, 5 blocks, and the spreads from those residuals), so the forest learns from deviations as large as new days "
    "show: false positives 23/28/33/17/20 -> 27/24/30/18/24 %, and a latency creep missed on seed 17.",
    "Not kept: a slot's spread as the larger of its own and the one over every day at its time of day: 23/28/28/17/18 %.",
    "Not kept: a slot's spread shrunk toward the one over every day, weighted by its number of days against 7: "
    "19/26/30/17/16 %.",
    "**Kept**: the spread around a slot's median learnt per time of day over every day, weekdays and weekends together "
    "(the medians stay per kind of day). About 10 of the 36 model false alarms on the development seeds were memory read "
    "4-6 sigmas high with nothing wrong, most on the first weekends scored: a 14-day history holds four weekend days, memory "
    "moves about once a day, so a weekend slot's spread came from about four values and was 0.6-0.9 of its weekday twin's. "
    "False positives 23/28/33/17/20 -> 21/24/28/17/16 %, none missed, median time to detect unchanged (16/14/27/12/20 min). "
    "On the reported held-back seeds (not tuned on): 101-109 false positives 37/9/24/24 -> 23/9/17/18 %, misses and time to "
    "detect unchanged; 201-209 false positives 11/22/19/14 -> 14/21/17/17 %, misses 1/2/1/0 -> 1/1/2/0 (a partial outage now "
    "found on 203, another missed on 207), time to detect 15/13/16/24 -> 15/14/16/28 min. First run of 401-409 with it: "
    "20/13/11/24 %, none missed, 16/28/19/16 min.",
    "Not kept: the sustained deviation as the 1-hour median of the windows' deviations instead of their mean, so a lone "
    "blip does not carry into it (a blip's window at 39 sigmas made the hour's mean 9.8, past anything in training): false "
    "positives 21/24/28/17/16 -> 17/26/31/17/20 %, none missed, median time to detect 18/14/26/12/20 min.",
    "Not kept: spreads pooled over two hours either side of the time of day instead of half an hour (more days' worth of "
    "values for slow metrics): false positives 21/24/28/17/16 -> 19/26/28/19/14 %, none missed.",
    "Not kept: the error rate on a log scale (errors vary by factors; log of the rate plus a tenth of its training median), "
    "so a blip is less extreme to the model: the model's own false alarms fell (seeds 11 and 13: 'other' 4 and 2 -> 0) but "
    "the blips that cross the critical rule then page as the rule's alone: false positives 21/24/28/17/16 -> "
    "21/20/26/17/20 %, brief rule pages 1/4/4/1/2 -> 1/7/5/2/3, none missed.",
    "**Kept**, a change to the data: the sample's rates as the documented queries return them, 5-minute rates sampled once "
    "a minute (the change tried above, now on the detector with the spreads over every day; decided on these seeds alone). "
    "False positives 21/24/28/17/16 -> 21/14/18/17/14 %, brief rule pages 1/4/4/1/2 -> 0/0/0/2/1, none missed; median time "
    "to detect 16/14/27/12/20 -> 16/24/27/19/20 min (a 5-minute rate lags a change by a few minutes, in Prometheus too).",
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
    parser.add_argument("--dev-only", action="store_true", help="the development seeds only, printed (RESULTS.md is left alone)")
    parser.add_argument("--no-write", action="store_true", help="print the section; leave RESULTS.md alone")
    args = parser.parse_args()
    config = load_config(ROOT / "workbench.yaml")
    start = time.perf_counter()
    dev = evaluate_seeds(config, list(DEV_SEEDS))
    # The held-back sets stay reported once run: every written section has them all.
    held = [] if args.dev_only else [(seeds, note, evaluate_seeds(config, list(seeds))) for seeds, note in HELD_BACK]
    m = machine()
    lines = [
        BEGIN,
        "## The sample result across seeds (issue 16)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_seeds.py` ({time.perf_counter() - start:.0f} s). "
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {m['cpu']}, {m['cores']} cores, {m['memory']}; Python {m['python']}.",
        "",
        f"Goal on every reported seed: {GOALS}. Each seed is its own 60-day sample with its own incidents.",
        "",
        f"### Development seeds ({', '.join(map(str, DEV_SEEDS))})",
        "",
        *table_lines(dev),
        "",
    ]
    for seeds, note, results in held:
        lines += [f"### Held-back seeds ({', '.join(map(str, seeds))})", "", f"Never used to find or try a fix; {note}.", "", *table_lines(results), ""]
    lines += [f"Not run yet, for the next fix: seeds {', '.join(map(str, NEXT_HELD_BACK))}."]
    lines += ["", "### Tried on the development seeds", "", *[f"- {t}" for t in TRIED]]
    lines.append(END)
    print("\n".join(lines) if args.no_write or args.dev_only else write_section(BEGIN, END, lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
