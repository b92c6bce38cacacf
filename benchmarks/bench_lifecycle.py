"""Measure the model lifecycle and record the figures in RESULTS.md.

    .venv/bin/python benchmarks/bench_lifecycle.py [--seeds 7 11 23] [--weeks 6] [--jobs 2]

On temporary sample projects (six services, 60 days; one per sample seed; the project's own
files are not touched). Seed 7 is the development seed (the one looked at while building);
pass seeds nobody has looked at for held-out figures (11 and 23 were used so once, then
looked at; 31 and 47 after the changes that followed).

* **A/A**: per seed, service and compared fortnight (ending 10-17, 10-24, 10-31), the champion
  trained before the fortnight with seed 0 against the same recipe with another seed: the
  promotion rule must (almost) never promote (floor: at most 5 % of at least 100 trials);
* **power**: the same champions' real alert streams against a challenger whose expected cost
  is 10 % lower (each of the champion's false alerts dropped with the probability that takes
  10 % off the expected cost), and the rule's power by volume (simulated daily costs);
* **drift on stationary data**: the sample without its migration, a champion trained on the
  first 30 days, daily checks over the next 30: acting alarms per service (floor: at most one
  per 30 days);
* **the drift scenario**: the lifecycle replayed day by day over the last ``--weeks`` under
  each policy (frozen, weekly, drift, weekly_or_drift), outcomes on the migrated services
  before and after their migration, and on all services;
* **rollback**: wall time of ``workbench models rollback`` (a new process) and whether the
  restored champion's scores are byte-identical to its earlier ones.

The section between the markers in RESULTS.md is replaced; other sections are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_report import machine, write_section  # noqa: E402
from conftest import make_project  # noqa: E402

from workbench.config import load_config  # noqa: E402
from workbench.evaluate.challenge import challenge, compared_span  # noqa: E402
from workbench.evaluate.events import event_metrics  # noqa: E402
from workbench.evaluate.paired import (  # noqa: E402
    Verdict,
    bootstrap_improvement,
    compare_paired,
    decide,
)
from workbench.features.windows import to_windows  # noqa: E402
from workbench.labels.incidents import read_events, read_incidents  # noqa: E402
from workbench.lifecycle.aliases import load_champion  # noqa: E402
from workbench.lifecycle.drift import DriftReference, check_drift  # noqa: E402
from workbench.lifecycle.training import model_matrix, score_windows, train_service  # noqa: E402
from workbench.sources import load_service  # noqa: E402
from workbench.sources.sample import ensure_sample  # noqa: E402
from workbench.sources.scenarios import sample_changes  # noqa: E402
from workbench.workflows.drift import excluded_windows  # noqa: E402
from workbench.workflows.lifecycle import replay_lifecycle  # noqa: E402
from workbench.workflows.retrain import retrain  # noqa: E402

BEGIN, END = "<!-- lifecycle:begin -->", "<!-- lifecycle:end -->"
SERVICES = ["checkout", "payments", "search", "catalog", "auth", "notifications"]
AT = [pd.Timestamp(f"2026-10-{d}T00:00Z") for d in (17, 24, 31)]
POLICIES = ["frozen", "weekly", "drift", "weekly_or_drift"]


def project(folder: Path, seed: int, drift: bool = True):
    sample = {"seed": seed, "start": "2026-09-01", "days": 60, "frequency": "1min", "drift": drift}
    config = load_config(make_project(folder, days=60, source={"kind": "sample", "sample": sample}))
    ensure_sample(config)
    return config


def _aa_service(config, service: str, twins: int) -> list[dict]:
    """A/A trials of one service: (champion, twin) pairs and the champion's real alerts for the power trials."""
    samples = load_service(config, service)
    windows = to_windows(samples, config.window, config.max_fill)
    incidents, events = read_incidents(config.path("incidents")), read_events(config.path("events"))
    out = []
    for at in AT:
        start, _ = compared_span(config, windows, at)
        known = incidents[incidents["start"] < start]
        before = windows[windows.index < start]
        before = before[before.index >= start - pd.Timedelta(config.model.train_span)]
        champion = train_service(service, before, known, events, config.model)
        for k in range(1, twins + 1):
            twin = train_service(service, before, known, events, config.model.model_copy(update={"random_state": k}))
            result = challenge(config, service, champion, samples, windows[windows.index < at], incidents[incidents["start"] < at], events, at, challenger=twin, seed=k)
            c = result.comparison
            out.append({
                "service": service, "at": str(at.date()), "twin": k, "verdict": str(c.verdict), "improvement": c.improvement,
                "champion_cost": c.champion.cost, "incidents": c.incidents + len(result.earlier),
                "alerts": result.alerts["champion"], "span": (result.start, result.end),
            })  # fmt: skip
    return out


def aa_trials(config, twins: int, jobs: int) -> list[dict]:
    done = Parallel(n_jobs=jobs)(delayed(_aa_service)(config, s, twins) for s in SERVICES)
    return [row for rows in done for row in rows]


def power_trials(config, trials: list[dict], rng: np.random.Generator) -> dict:
    """A challenger whose expected cost is 10 % lower, built from each champion's real alerts."""
    incidents = read_incidents(config.path("incidents"))
    weights = config.lifecycle.cost
    promoted = usable = 0
    for t in trials:
        alerts, (start, end) = t["alerts"], t["span"]
        mine = incidents[incidents["service"] == t["service"]]
        base = compare_paired(alerts, alerts, mine, start, end, window=config.window, settings=config.lifecycle)
        cost = base.champion.cost
        in_span = alerts[(alerts["start"] >= start) & (alerts["start"] < end)]
        hit = np.array([((mine["start"] < a.end + pd.Timedelta(config.window)) & (mine["end"] > a.start)).any() for a in in_span.itertuples()], dtype=bool)
        false = in_span[~hit]
        # What dropping all false alerts would save: their count and their hours outside incidents.
        saving = weights.false_alert * len(false) + weights.noise_hour * float(((false["end"] - false["start"]) / pd.Timedelta(hours=1)).sum())
        if cost <= 0 or saving < 0.1 * cost:
            continue  # no false alerts to improve on: a 10 % better challenger cannot be built from this stream
        usable += 1
        q = 0.1 * cost / saving
        keep = rng.random(len(false)) >= q
        challenger = pd.concat([in_span[hit], false[keep]]).sort_values("start")
        verdict = compare_paired(alerts, challenger, mine, start, end, window=config.window, settings=config.lifecycle, seed=int(rng.integers(1 << 30))).verdict
        promoted += verdict == Verdict.PROMOTE
    return {"usable": usable, "promoted": promoted}


def power_by_volume(settings, rng: np.random.Generator, trials: int = 400) -> list[dict]:
    """The rule's power for a true 10 % improvement, simulated: days x mean cost per day (alerts mostly shared)."""
    rows = []
    for days in (14, 28):
        for per_day in (2, 5, 10, 20, 50):
            promoted = 0
            for _ in range(trials):
                load = rng.gamma(2.0, per_day / 2.0, days)
                shared = rng.poisson(0.9 * load)
                champion = shared + rng.poisson(0.1 * load)
                challenger = rng.binomial(shared, 8 / 9) + rng.poisson(0.1 * load)  # expected cost 10 % lower
                result = bootstrap_improvement(champion, challenger, confidence=settings.confidence, n=settings.bootstrap, rng=rng)
                verdict, _ = decide(result, settings=settings, incidents=settings.min_incidents, days=days)
                promoted += verdict == Verdict.PROMOTE
            rows.append({"days": days, "per_day": per_day, "power": promoted / trials})
    return rows


def stationary_drift(config) -> dict[str, int]:
    """Acting drift alarms per service: champion trained on days 0-30, daily checks over days 30-60 (incidents and planned events left out)."""
    incidents, events = read_incidents(config.path("incidents")), read_events(config.path("events"))
    out = {}
    for service in SERVICES:
        windows = to_windows(load_service(config, service), config.window, config.max_fill)
        cut = windows.index[0] + pd.Timedelta("30D")
        model = train_service(service, windows[windows.index < cut], incidents, events, config.model, config.lifecycle.drift.span)
        reference = DriftReference.from_dict(model.metadata["drift_reference"])
        X_all = model_matrix(model.features.transform(windows, events=events))
        # Left out as the workflow's check leaves them out: labelled incidents and planned events.
        inside = excluded_windows(config, service, X_all.index, events[events["service"].isin([service, "*"])], incidents)
        acts = 0
        for day in pd.date_range(cut, windows.index[-1].floor("1D"), freq="1D")[:30]:
            span = (X_all.index >= day) & (X_all.index < day + pd.Timedelta("1D")) & ~inside
            X = X_all[span]
            valid = X.notna().all(axis=1)
            raw = pd.Series(np.nan, index=X.index)
            if valid.any():
                raw[valid] = model.detector.score_samples(X[valid])
            check = check_drift(reference, X, raw.to_numpy(), (raw <= model.detector.offset_).to_numpy(), config.lifecycle.drift)
            acts += check.status == "act"
        out[service] = acts
    return out


def policies(config, weeks: int, jobs: int) -> tuple[list[dict], dict]:
    """Each policy's replay; outcomes on the migrated services before and after their migration, and on the others."""
    changes = sample_changes(config.source.sample, list(config.services))
    moved = dict(zip(changes["service"], changes["at"]))
    rows, seconds = [], {}
    for policy in POLICIES:
        began = time.perf_counter()
        life = replay_lifecycle(config, policy=policy, weeks=weeks, jobs=jobs)
        seconds[policy] = time.perf_counter() - began
        counts = {"retrains": sum(r.verdict not in ("not_due", "first") for r in life.results), "promotions": sum(r.verdict == "promote" for r in life.results)}
        periods = {
            "migrated, before": {s: (life.start, at) for s, at in moved.items()},
            "migrated, after": {s: (at, life.end) for s, at in moved.items()},
            "the others, all weeks": {s: (life.start, life.end) for s in SERVICES if s not in moved},
        }
        for label, spans in periods.items():
            total = {"alerts": 0, "false": 0, "incidents": 0, "missed": 0, "noise_hours": 0.0, "weeks": 0.0, "ttd": []}
            for service, (lo, hi) in spans.items():
                alerts = life.alerts[life.alerts["service"] == service]
                incidents = life.incidents[life.incidents["service"] == service]
                m = event_metrics(alerts, incidents, lo, hi, window=config.window)
                weeks_ = (hi - lo) / pd.Timedelta(days=7)
                total["alerts"] += m["alerts"]
                total["false"] += m["false_alerts"]
                total["incidents"] += m["incidents"]
                total["missed"] += len(m["missed_incidents"])
                total["noise_hours"] += (m["noise_hours_per_week"] or 0.0) * weeks_
                total["weeks"] += weeks_
                total["ttd"] += _ttd(alerts, incidents, lo, hi, config.window)
            rows.append({"policy": policy, "scope": label, **counts, **total})
    return rows, seconds


def _ttd(alerts, incidents, lo, hi, window) -> list[float]:
    from workbench.evaluate.events import match_incidents

    mine = incidents[(incidents["start"] >= lo) & (incidents["start"] < hi)]
    _, ttd = match_incidents(alerts, mine, window)
    return (ttd.dropna() / pd.Timedelta("1min")).tolist()


def rollback_figures(folder: Path) -> dict:
    config = project(folder, 7)
    at1, at2 = pd.Timestamp("2026-10-10T00:00Z"), pd.Timestamp("2026-10-24T00:00Z")
    retrain(config, ["checkout"], at=at1)
    first, _ = load_champion(config, "checkout")
    windows = to_windows(load_service(config, "checkout", start="2026-10-25"), config.window, config.max_fill)
    events = read_events(config.path("events"))
    before = score_windows(first, windows, events)[["raw", "confidence"]].to_numpy().tobytes()
    walls = []
    cli = [sys.executable, "-m", "workbench.cli", "--config", str(config.root / "workbench.yaml"), "models"]
    for k in range(5):
        result = retrain(config, ["checkout"], at=at2 + pd.Timedelta(days=k)).pop()
        if result.verdict != "promote":
            subprocess.run([*cli, "promote", result.challenger, "--service", "checkout"], check=True, capture_output=True)
        started = time.perf_counter()
        done = subprocess.run([*cli, "rollback", "--service", "checkout"], capture_output=True, text=True)
        walls.append(time.perf_counter() - started)
        assert done.returncode == 0, done.stderr
    after = score_windows(load_champion(config, "checkout")[0], windows, events)[["raw", "confidence"]].to_numpy().tobytes()
    return {"median": statistics.median(walls), "worst": max(walls), "identical": after == before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 31, 47, 53])
    parser.add_argument("--twins", type=int, default=2, help="A/A trials per champion (other seeds)")
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    began = time.perf_counter()
    aa, power, drift_rows, policy_rows, policy_seconds = {}, {}, {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="wb-bench-lifecycle-") as tmp:
        for seed in args.seeds:
            config = project(Path(tmp) / f"seed{seed}", seed)
            trials = aa_trials(config, args.twins, args.jobs)
            aa[seed] = [{k: v for k, v in t.items() if k not in ("alerts", "span")} for t in trials]
            power[seed] = power_trials(config, trials, rng)
            policy_rows[seed], policy_seconds[seed] = policies(config, args.weeks, args.jobs)
            print(f"seed {seed}: A/A {sum(t['verdict'] == 'promote' for t in trials)}/{len(trials)} promoted; power {power[seed]}", file=sys.stderr)
            drift_rows[seed] = stationary_drift(project(Path(tmp) / f"still{seed}", seed, drift=False))
            print(f"seed {seed}: stationary acting alarms {drift_rows[seed]}", file=sys.stderr)
        volume = power_by_volume(load_config(make_project(Path(tmp) / "volume", days=14)).lifecycle, rng)
        rb = rollback_figures(Path(tmp) / "rollback")
    write(args, aa, power, volume, drift_rows, policy_rows, policy_seconds, rb, time.perf_counter() - began)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def write(args, aa, power, volume, drift_rows, policy_rows, policy_seconds, rb, seconds) -> None:
    facts = machine()
    all_trials = [t for rows in aa.values() for t in rows]
    promoted = sum(t["verdict"] == "promote" for t in all_trials)
    lines = [
        BEGIN,
        "## Model lifecycle: promotion rule, drift checks, policies, rollback (issue 12)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_lifecycle.py --seeds {' '.join(map(str, args.seeds))} --weeks {args.weeks}` "
        f"({seconds / 60:.0f} min). Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on: {facts['cpu']}, "
        f"{facts['cores']} cores, {facts['memory']}; Python {facts['python']}. Sample seed 7 is the development seed; "
        f"{', '.join(str(s) for s in args.seeds if s not in (7, 11, 23, 31, 47))} were first looked at in this run "
        "(11, 23, 31 and 47 were held out in earlier runs of this benchmark, then looked at). No threshold or weight was set on these figures.",
        "",
        "### A/A: the champion against itself retrained with another seed",
        "",
        "Champion trained on the 30 days before each compared fortnight (ending 10-17, 10-24, 10-31) with seed 0; challenger the same "
        "data and recipe with seed 1 or 2; both replayed on the same fortnight, recall checked on every earlier incident. Floor: at most 5 % promoted.",
        "",
        "| sample seed | trials | promoted | keep | not enough evidence |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for seed, rows in aa.items():
        v = pd.Series([r["verdict"] for r in rows]).value_counts()
        lines.append(f"| {seed} | {len(rows)} | {v.get('promote', 0)} | {v.get('keep', 0)} | {v.get('not_enough_evidence', 0)} |")
    lines += [
        f"| **all** | **{len(all_trials)}** | **{promoted} ({_pct(promoted / max(1, len(all_trials)))})** | | |",
        "",
        "### Power: a challenger whose expected cost is 10 % lower",
        "",
        "On the same champions' real alert streams: each false alert dropped with the probability that takes 10 % off the expected "
        "cost (a stream whose false alerts are under 10 % of its cost cannot be improved that way and is left out).",
        "",
        "| sample seed | usable trials | promoted |",
        "| --- | ---: | ---: |",
    ]
    for seed, p in power.items():
        lines.append(f"| {seed} | {p['usable']} | {p['promoted']} ({_pct(p['promoted'] / max(1, p['usable']))}) |")
    lines += [
        "",
        "The rule's power for a true 10 % improvement by evidence volume (simulated daily costs, 90 % of alerts shared by both models, "
        "400 trials per cell; cost in false-alert equivalents per day):",
        "",
        "| days | " + " | ".join(f"{v} / day" for v in (2, 5, 10, 20, 50)) + " |",
        "| ---: | " + " | ".join("---:" for _ in range(5)) + " |",
    ]
    for days in (14, 28):
        cells = [r for r in volume if r["days"] == days]
        lines.append(f"| {days} | " + " | ".join(_pct(r["power"]) for r in cells) + " |")
    lines += [
        "",
        "### Drift checks on stationary data (the sample without its migration)",
        "",
        "Champion trained on days 0-30, one check per day over days 30-60 (labelled incidents and planned events left out, as the workflow's check does). Floor: at most one acting alarm per 30 days per service.",
        "",
        "| sample seed | " + " | ".join(SERVICES) + " |",
        "| --- | " + " | ".join("---:" for _ in SERVICES) + " |",
    ]
    for seed, acts in drift_rows.items():
        lines.append(f"| {seed} | " + " | ".join(str(acts[s]) for s in SERVICES) + " |")
    lines += [
        "",
        f"### The drift scenario: four policies over the last {args.weeks} weeks",
        "",
        "The lifecycle replayed day by day (`workbench.workflows.lifecycle`): each day scored by that day's champion; at the end of each day "
        "a drift check and, when the policy says so, a retrain with the paired comparison. Outcomes of the hybrid on the migrated services "
        "before and after their migration, and on the other services over the whole replay. Noise = hours alerts stayed open outside any incident.",
        "",
        "| seed | policy | retrains | promoted | services | alerts | false | FP share | incidents | missed | median TTD (min) | noise h / week |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for seed, rows in policy_rows.items():
        for r in rows:
            fp = r["false"] / r["alerts"] if r["alerts"] else 0.0
            ttd = f"{np.median(r['ttd']):.0f}" if r["ttd"] else "-"
            noise = abs(r["noise_hours"] / r["weeks"]) if r["weeks"] else 0.0
            lines.append(
                f"| {seed} | {r['policy']} | {r['retrains']} | {r['promotions']} | {r['scope']} | {r['alerts']} | {r['false']} | "
                f"{fp:.0%} | {r['incidents']} | {r['missed']} | {ttd} | {noise:.1f} |"
            )
    walls = [s for d in policy_seconds.values() for s in d.values()]
    lines += [
        "",
        f"A policy replay of six services over {args.weeks} weeks took {min(walls):.0f}-{max(walls):.0f} s with {args.jobs} processes.",
        "",
        "### Rollback",
        "",
        f"`workbench models rollback --service checkout` in a new process (5 runs, each after a promotion): median **{rb['median']:.2f} s**, "
        f"worst {rb['worst']:.2f} s (floor: under a second). The restored champion's scores of the last week are "
        f"{'**byte-identical**' if rb['identical'] else '**not identical**'} to its scores before it was replaced.",
        END,
    ]
    print(write_section(BEGIN, END, lines))


if __name__ == "__main__":
    main()
