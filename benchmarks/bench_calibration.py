"""Does the confidence keep its promise? The alarm rate on normal data against the promised
rate, on Gaussian, heavy-tailed and skewed data; writes its section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_calibration.py                  # the reported seeds
    .venv/bin/python benchmarks/bench_calibration.py --dev --no-write # the development seeds, printed only

A confidence of 75 promises that a normal week (672 windows of 15 minutes) holds on average
-ln(0.75) = 0.29 windows at or above it (:mod:`workbench.detect.forest`). Per distribution
and seed, a detector is trained on 3,000 rows of 4 independent features (a month of windows)
and predicts 100,000 fresh rows of the same distribution; the ratio is the alarms per 672 rows
over 0.29 (1 = the promise kept; 2 = twice as many alarms as promised). Reported per
distribution: the mean ratio over the seeds (the bias), its median, the 10th to 90th
percentile (the spread from one training month to another) and the share of fits within 1.5x.

Distributions: Gaussian, Laplace (heavy-tailed), Student-t with 3 degrees of freedom (heavier)
and log-normal with sigma 0.75 (skewed). Development seeds 0-19 are for trying changes; the
reported seeds are not to be tuned on. Tried on the development seeds: a maximum-likelihood fit
of the tail instead of the moments (no better overall, not kept); the forest tail's lowest shape
-0.3 instead of -0.5 (kept: log-normal's mean ratio 1.91 -> 1.08, the others 0.98-1.32; see
``FOREST_MIN_SHAPE`` in workbench.detect.forest). Seeds 1000-1039 were reported before that
change and so were seen; the change is reported on 2000-2039, run once after it was chosen (and
again after a fix that keeps scores within the training range at one in n + 1 or more: the
same figures, as it must be with 3,000 training rows, whose 1 / 3,001 is below the alarm's 4e-4).
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

from workbench.detect.forest import IsolationForestDetector  # noqa: E402
from workbench.settings.detection import ModelSettings  # noqa: E402

BEGIN, END = "<!-- calibration:begin -->", "<!-- calibration:end -->"
ALARM = 75.0
PERIOD = 672
PROMISED = -np.log(ALARM / 100)
TRAIN, TEST, WIDTH = 3000, 100_000, 4
TREES = ModelSettings().n_estimators
DEV_SEEDS = range(0, 20)
REPORT_SEEDS = range(2000, 2040)


def draw(name: str, rng: np.random.Generator, rows: int) -> np.ndarray:
    size = (rows, WIDTH)
    if name == "gaussian":
        return rng.normal(size=size)
    if name == "laplace":
        return rng.laplace(size=size)
    if name == "student-t 3":
        return rng.standard_t(3, size=size)
    if name == "log-normal":
        return rng.lognormal(0.0, 0.75, size=size)
    raise ValueError(name)


DISTRIBUTIONS = ("gaussian", "laplace", "student-t 3", "log-normal")


def ratio(name: str, seed: int) -> float:
    """Alarms per period on fresh normal rows over the promised 0.29, for one training draw."""
    rng = np.random.default_rng(seed)
    train, test = draw(name, rng, TRAIN), draw(name, rng, TEST)
    # The service model's forest size (model.n_estimators): what the product runs.
    detector = IsolationForestDetector(n_estimators=TREES, alarm_confidence=ALARM, confidence_period=PERIOD, random_state=seed).fit(train)
    return float((detector.predict(test) == -1).mean() * PERIOD / PROMISED)


def summary(ratios: list[float]) -> dict:
    r = np.array(ratios)
    return {
        "mean": float(r.mean()),
        "median": float(np.median(r)),
        "p10": float(np.percentile(r, 10)),
        "p90": float(np.percentile(r, 90)),
        "within": float(((r >= 1 / 1.5) & (r <= 1.5)).mean()),
        "n": len(r),
    }


def measure(seeds) -> dict[str, dict]:
    return {name: summary([ratio(name, s) for s in seeds]) for name in DISTRIBUTIONS}


def section(results: dict, seeds, elapsed: float) -> list[str]:
    m = machine()
    lines = [
        BEGIN,
        "## Does the confidence keep its promise? (issue 16)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_calibration.py` ({elapsed:.0f} s). Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{m['cpu']}, {m['cores']} cores, {m['memory']}; Python {m['python']}.",
        "",
        f"Alarms per week on fresh normal data over the promised {PROMISED:.2f} at confidence {ALARM:.0f} (1 = kept; the goal: within 1.5x), "
        f"per distribution; {len(seeds)} training draws each of {TRAIN:,} rows x {WIDTH} features, a forest of {TREES} trees (the service model's), "
        f"scored on {TEST:,} fresh rows. Seeds {seeds.start}-{seeds.stop - 1}.",
        "",
        "| distribution | mean ratio | median | 10th-90th percentile | fits within 1.5x |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, s in results.items():
        lines.append(f"| {name} | **{s['mean']:.2f}** | {s['median']:.2f} | {s['p10']:.2f}-{s['p90']:.2f} | {s['within']:.0%} |")
    return lines + [END]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="the development seeds (0-19) instead of the reported ones")
    parser.add_argument("--no-write", action="store_true", help="print the section; leave RESULTS.md alone")
    args = parser.parse_args()
    seeds = DEV_SEEDS if args.dev else REPORT_SEEDS
    start = time.perf_counter()
    results = measure(seeds)
    lines = section(results, seeds, time.perf_counter() - start)
    print("\n".join(lines) if args.no_write or args.dev else write_section(BEGIN, END, lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
