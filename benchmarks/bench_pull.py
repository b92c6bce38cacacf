"""Pulling from a real Prometheus: the workbench against plain chunked `requests` queries.

    .venv/bin/python benchmarks/bench_pull.py [--services 6] [--days 30] [--repeat 5]

Backfills the sample (``--services`` services x 6 metrics x ``--days`` days at 1-minute
resolution) into Debian's Prometheus with promtool, starts it on 127.0.0.1, then, in the
same run and alternating, times:

* **workbench**: ``PrometheusClient.fetch`` - chunks under the 11,000-point limit, a
  thread pool, retries, edge de-duplication, the long-form frame, validated;
* **plain requests**: the same chunks over the same number of threads, ``requests.get``,
  ``.json()``, and a long-form frame of floats (what a careful engineer writes by hand,
  without retries or checks).

Both produce the same rows (checked). The ratio of medians is the figure the issue sets
(target at most 1.2). Also timed: writing the pulled frame to the Parquet store, and a
second, incremental pull that finds nothing new. Results go to RESULTS.md between markers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_report import machine, write_section  # noqa: E402

from workbench.config import load_config  # noqa: E402
from workbench.contracts import CANONICAL_METRICS
from workbench.sources.prometheus import PrometheusClient, Task  # noqa: E402
from workbench.sources.sample import generate  # noqa: E402
from workbench.testing.prometheus import LocalPrometheus, write_openmetrics  # noqa: E402
from workbench.workflows.pull import pull  # noqa: E402

BEGIN, END = "<!-- pull:begin -->", "<!-- pull:end -->"
TARGET = 1.2


def plain_pull(url: str, client: PrometheusClient, tasks: list[Task], queries: dict[str, str], threads: int) -> pd.DataFrame:
    """Chunked range queries with requests, by hand: the baseline."""
    session = requests.Session()
    jobs = []
    for task in tasks:
        query = queries[task.metric].replace("$service", task.service)
        for lo, hi in client.chunks(task.start, task.end):
            jobs.append((task, query, lo, hi))

    def one(job):
        task, query, lo, hi = job
        r = session.get(f"{url}/api/v1/query_range", params={"query": query, "start": lo.timestamp(), "end": hi.timestamp(), "step": "60s"}, timeout=30)
        r.raise_for_status()
        result = r.json()["data"]["result"]
        return task, (result[0]["values"] if result else [])

    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(one, jobs))
    frames = []
    by_task: dict[Task, list] = {}
    for task, values in parts:
        by_task.setdefault(task, []).extend(values)
    for task, values in by_task.items():
        f = pd.DataFrame(values, columns=["timestamp", "value"]).drop_duplicates("timestamp")
        f["timestamp"] = pd.to_datetime(f["timestamp"], unit="s", utc=True)
        f["value"] = f["value"].astype(float)
        frames.append(f.assign(service=task.service, metric=task.metric))
    return pd.concat(frames, ignore_index=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=6)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wb-bench-pull-") as tmp:
        tmp = Path(tmp)
        settings = yaml.safe_load((ROOT / "workbench.yaml").read_text())
        settings["services"] = settings["services"][: args.services]
        settings["source"]["sample"]["days"] = max(args.days, 14)
        settings["source"]["prometheus"] = {"queries": {m: f'workbench_{m}{{service="$service"}}' for m in CANONICAL_METRICS}}
        (tmp / "workbench.yaml").write_text(yaml.safe_dump(settings))
        config = load_config(tmp / "workbench.yaml")
        data = generate(config.source.sample, list(config.services)).metrics
        start = pd.Timestamp(config.source.sample.start, tz="UTC")
        end = start + pd.Timedelta(days=args.days)
        data = data[(data["timestamp"] >= start) & (data["timestamp"] < end)]
        t = time.perf_counter()
        write_openmetrics(data, tmp / "metrics.om")
        om_seconds = time.perf_counter() - t
        prom = LocalPrometheus(tmp / "metrics.om", lookback_delta="59s")
        t = time.perf_counter()
        prom.start()
        start_seconds = time.perf_counter() - t
        try:
            os.environ["WORKBENCH_PROMETHEUS_URL"] = prom.url
            prom_settings = config.source.prometheus
            tasks = [Task(s, m, start, end) for s in config.services for m in CANONICAL_METRICS]
            wb_times, plain_times = [], []
            with PrometheusClient(prom_settings) as client:
                n_queries = sum(len(client.chunks(t.start, t.end)) for t in tasks)
                ours = client.fetch(tasks)
                theirs = plain_pull(prom.url, client, tasks, prom_settings.queries, prom_settings.parallel)
                same = (
                    len(ours) == len(theirs) == len(data)
                    and ours.sort_values(["service", "metric", "timestamp"])["value"].to_numpy().tolist()
                    == theirs.sort_values(["service", "metric", "timestamp"])["value"].to_numpy().tolist()
                )
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    client.fetch(tasks)
                    wb_times.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    plain_pull(prom.url, client, tasks, prom_settings.queries, prom_settings.parallel)
                    plain_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            first = pull(config, start=start, end=end)
            full_pull = time.perf_counter() - t
            t = time.perf_counter()
            again = pull(config, now=end - pd.Timedelta(prom_settings.step))
            incremental = time.perf_counter() - t
        finally:
            prom.stop()

    wb, plain = statistics.median(wb_times), statistics.median(plain_times)
    ratio = wb / plain
    info = machine()
    lines = [
        BEGIN,
        "## Prometheus pull (issue 5)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_pull.py --services {args.services} --days {args.days} --repeat {args.repeat}` "
        f"on {time.strftime('%Y-%m-%d')}; machine: {info['cpu']}, {info['cores']} cores, {info['memory']}, Python {info['python']}.",
        "",
        f"Real Prometheus ({_prom_version()}) on 127.0.0.1, backfilled with promtool: {args.services} services x 6 metrics x "
        f"{args.days} days at 1 minute = {len(data):,} samples; {n_queries} range queries of at most "
        f"{prom_settings.max_points:,} points, {prom_settings.parallel} at a time. Same rows from both: {'yes' if same else 'NO'}.",
        "",
        "| pull | median | runs |",
        "| --- | ---: | --- |",
        f"| workbench `PrometheusClient.fetch` | {wb:.2f} s | {', '.join(f'{x:.2f}' for x in wb_times)} |",
        f"| plain `requests`, same chunks and threads | {plain:.2f} s | {', '.join(f'{x:.2f}' for x in plain_times)} |",
        "",
        f"**Ratio {ratio:.2f}x** (target at most {TARGET}x: {'met' if ratio <= TARGET else 'NOT met'}).",
        "",
        f"Around it: OpenMetrics file written in {om_seconds:.1f} s; backfill and start {start_seconds:.1f} s; "
        f"`workbench pull --start --end` into the Parquet store {full_pull:.2f} s ({first.added:,} rows added); "
        f"an incremental pull with nothing new {incremental:.2f} s ({again.fetched} rows fetched).",
        END,
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(BEGIN, END, lines)
    return 0 if same else 1


def _prom_version() -> str:
    import subprocess

    out = subprocess.run(["prometheus", "--version"], capture_output=True, text=True).stdout.split()
    return f"prometheus {out[2]}" if len(out) > 2 else "prometheus"


if __name__ == "__main__":
    raise SystemExit(main())
