"""Capacity forecasting: rolling-origin backtests on the sample and on NAB's nyc_taxi, and speed.

    .venv/bin/python benchmarks/bench_forecast.py [--no-mstl]

* Sample: every service's CPU, memory and request rate (18 series, 60 days, hourly means);
  origins every half week after the first four weeks (``capacity.backtest_*``).
* nyc_taxi (``../shared/benchmarks/nab/data/realKnownCause/nyc_taxi.csv``): 30-minute taxi
  demand over 7 months; origins every half week after the first eight weeks.
* Horizons one day and one week. MASE per origin is the forecast's MAE over the horizon
  divided by the in-sample seasonal-naive MAE at that origin; the table shows the mean
  over origins (and series) and the ratio to seasonal-naive. Methods: ``profile`` (the
  default), ``mstl`` (statsmodels MSTL + exponential smoothing), and the two baselines; on
  nyc_taxi also ``profile`` told the six major US holidays.
* Speed: ``plan_capacity`` for every sample service and resource (load, forecast, intervals,
  trend), median of 3 runs.

Writes its section of RESULTS.md between markers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_report import machine, write_section  # noqa: E402

from workbench.config import load_config  # noqa: E402
from workbench.forecast.backtest import backtest, backtest_summary
from workbench.forecast.history import prepare_series
from workbench.forecast.methods import us_major_holidays  # noqa: E402
from workbench.workflows.capacity import backtest_services, plan_capacity, usage_series  # noqa: E402

BEGIN, END = "<!-- forecast:begin -->", "<!-- forecast:end -->"
NYC = ROOT.parent / "shared" / "benchmarks" / "nab" / "data" / "realKnownCause" / "nyc_taxi.csv"


def table(summary: pd.DataFrame) -> list[str]:
    lines = ["| method | 1 day MASE | vs seasonal-naive | 1 day sMAPE | 1 week MASE | vs seasonal-naive | 1 week sMAPE |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    s = summary.set_index(["method", "horizon"])
    for method in dict.fromkeys(summary["method"]):
        d, w = s.loc[(method, "1 day")], s.loc[(method, "1 week")]
        lines.append(
            f"| {method} | {d['mase']:.3f} | **{d['vs_seasonal_naive']:.2f}** | {d['smape']:.1f} % | {w['mase']:.3f} | **{w['vs_seasonal_naive']:.2f}** | {w['smape']:.1f} % |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-mstl", action="store_true", help="leave out MSTL (slow: about a second per fit)")
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args()
    methods = ("profile",) + (() if args.no_mstl else ("mstl",)) + ("seasonal_naive", "median4")

    config = load_config(ROOT / "workbench.yaml")
    series = usage_series(config)
    t = time.perf_counter()
    sample_rows = backtest_services(config, series=series, methods=methods)
    sample_seconds = time.perf_counter() - t
    sample = backtest_summary(sample_rows)
    per_series = sample_rows.groupby(["series", "horizon", "method"])["mase"].mean().unstack("method")
    wins = {
        h: (int((g["profile"] < g["seasonal_naive"]).sum()), int((g["profile"] < g["median4"]).sum()), len(g))
        for h, g in per_series.groupby(level="horizon")
    }

    nyc_lines = [f"nyc_taxi not found at {NYC}; skipped."]
    if NYC.is_file():
        raw = pd.read_csv(NYC, parse_dates=["timestamp"]).set_index("timestamp")["value"]
        nyc_series, _ = prepare_series(raw.rename("nyc_taxi"), None)
        t = time.perf_counter()
        nyc_rows = backtest(nyc_series, initial="56D", every="84h", methods=methods)
        # The same forecast told the six major US holidays (the issue allows holidays as regressors).
        holidays = us_major_holidays(nyc_series.index[0], nyc_series.index[-1])
        with_holidays = backtest(nyc_series, initial="56D", every="84h", methods=("profile",), holidays=holidays)
        with_holidays["method"] = "profile + US holidays"
        nyc = backtest_summary(pd.concat([with_holidays, nyc_rows], ignore_index=True))
        nyc_seconds = time.perf_counter() - t
        nyc_lines = [
            f"**nyc_taxi** ({len(nyc_series):,} half-hours, 2014-07-01 to 2015-01-31; origins every 84 h after 56 days: "
            f"{int(nyc['origins'].max())} for one day, {int(nyc['origins'].min())} for one week; {nyc_seconds:.0f} s):",
            "",
            *table(nyc),
            "",
            f"'profile + US holidays' leaves {', '.join(str(d) for d in holidays)} out of the history and forecasts them like Sundays "
            "(New Year's Day, Memorial Day, Independence Day, Labor Day, Thanksgiving, Christmas; `forecast.us_major_holidays`). "
            "The baselines do not use the calendar.",
        ]

    runs = []
    for _ in range(3):
        t = time.perf_counter()
        plan = plan_capacity(config)
        runs.append(time.perf_counter() - t)
    info = machine()
    lines = [
        BEGIN,
        "## Capacity forecasting (issue 6)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_forecast.py` on {time.strftime('%Y-%m-%d')}; machine: {info['cpu']}, "
        f"{info['cores']} cores, {info['memory']}, Python {info['python']}. MASE: mean over origins of the forecast's MAE "
        "divided by that origin's in-sample seasonal-naive MAE; 'vs seasonal-naive' is the ratio of those means (floor: "
        "below both baselines on both horizons; aim 0.8).",
        "",
        *nyc_lines,
        "",
        f"**Sample** (18 series: 6 services x CPU, memory, request rate; hourly; origins every 84 h after 28 days; {sample_seconds:.0f} s):",
        "",
        *table(sample),
        "",
        "Per series, `profile` beats seasonal-naive on "
        + ", ".join(f"{w[0]}/{w[2]} ({h})" for h, w in wins.items())
        + " and the 4-week median on "
        + ", ".join(f"{w[1]}/{w[2]} ({h})" for h, w in wins.items())
        + ".",
        "",
        f"Speed: `plan_capacity` for all 18 sample series (load, forecast 14 days hourly, intervals from each series' own "
        f"backtest errors, trend) takes {statistics.median(runs):.1f} s (median of 3: {', '.join(f'{r:.1f}' for r in runs)}; target at most 30 s). "
        f"Headline on the sample: {plan.headline()}.",
        END,
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section(BEGIN, END, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
