"""The ``workbench`` command: thin verbs over the package.

Exit codes: 0 success, 1 a run that finished with a failure (a notebook failed, a
source or store could not be reached), 2 bad input (configuration, parameters, data)
reported before anything ran.

Heavy modules are imported inside each verb, so ``workbench --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from workbench import __version__
from workbench._registry import SOURCES, STORES
from workbench.errors import ParameterError, WorkbenchError

__all__ = ["EXIT_CODES", "build_parser", "main"]

#: What each exit status means; ``--help`` prints it.
EXIT_CODES = {
    0: "success",
    1: "a run failed (a notebook failed; a source or store could not be reached)",
    2: "bad input or configuration, reported before anything ran",
}


def _load_config(path: str | None):
    from workbench.config import load_config

    return load_config(path)


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param takes key=value, got {pair!r}")
        params[name.strip()] = value
    return params


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench.contracts import NotebookStatus
    from workbench.report.runner import run_report

    config = _load_config(args.config)
    params = _parse_params(args.param)
    if args.config and "config_path" not in params:
        params["config_path"] = str(Path(args.config).resolve())
    # Progress goes to stderr so stdout is just the report's path, for scripts and cron mail.
    result = run_report(
        config, notebooks=args.notebooks, parameters=params, run_id=args.run_id, log=lambda line: print(line, file=sys.stderr)
    )
    if not result.ok:
        failed = [nb for nb in result.notebooks if nb.status != NotebookStatus.OK]
        for nb in failed:
            print(f"FAILED {nb.name}: {nb.error}", file=sys.stderr)
            if nb.executed:
                print(f"  executed copy kept at {_shown(result.folder / nb.executed)}", file=sys.stderr)
        print(f"run {result.run_id} failed; reports/latest still points at the last good run", file=sys.stderr)
        print(_shown(result.index))
        return 1
    print(_shown(config.path("reports") / "latest" / "index.html"))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from workbench.workflows.sample import prepare_sample

    config = _load_config(args.config)
    path = prepare_sample(config, force=args.force, write_labels=args.write_labels)
    print(_shown(path))
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    from workbench.report.params import discover_notebooks, notebook_parameters

    config = _load_config(args.config)
    for path in discover_notebooks(config, args.notebooks):
        print(f"{path.stem}:")
        for name, spec in notebook_parameters(path).items():
            choices = f" (one of: {', '.join(spec['choices'])})" if spec["choices"] else ""
            print(f"  {name}: {spec['type']} = {spec['default']}  # {spec['help']}{choices}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from workbench.evaluate.events import SYSTEMS
    from workbench.workflows.evaluate import run_systems

    config = _load_config(args.config)
    evaluation = run_systems(config, source=args.source or None, services=args.services or None)
    results = evaluation.results
    if args.json:
        keys = ("alerts_per_week", "fp_share", "missed_incidents", "ttd_median_minutes", "ttd_worst_minutes", "alerts", "volume_change")
        out = {name: {k: results[name][k] for k in keys if k in results[name]} for name in SYSTEMS}
        out["summary"] = results["summary"]
        print(json.dumps(out))
        return 0
    s = results["summary"]
    print(f"{s['from'][:10]} to {s['to'][:10]} ({s['weeks']} weeks), {results['baseline']['incidents']} labelled incidents")
    print(f"{'system':<10} {'alerts/wk':>9} {'vs base':>8} {'FP share':>9} {'missed':>7} {'TTD med':>8} {'TTD worst':>10}")
    for name in SYSTEMS:
        r = results[name]
        change = f"{r['volume_change']:+.0%}" if "volume_change" in r else "-"
        med = "-" if r["ttd_median_minutes"] is None else f"{r['ttd_median_minutes']:.0f}m"
        worst = "-" if r["ttd_worst_minutes"] is None else f"{r['ttd_worst_minutes']:.0f}m"
        print(f"{name:<10} {r['alerts_per_week']:>9} {change:>8} {r['fp_share']:>9.0%} {len(r['missed_incidents']):>7} {med:>8} {worst:>10}")
    print("regressions (caught by the baseline, missed by the hybrid):", ", ".join(s.get("regressions", [])) or "none")
    return 0


def _cmd_nab_detect(args: argparse.Namespace) -> int:
    from workbench._util import atomic_path
    from workbench.detect.series import SeriesDetector
    from workbench.workflows.nab import detect_frame, read_nab_csv

    out = detect_frame(read_nab_csv(args.input), SeriesDetector(forest_voice=args.forest_voice))
    with atomic_path(args.output) as tmp:
        out.to_csv(tmp, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return 0


def _cmd_nab_score(args: argparse.Namespace) -> int:
    import json

    from workbench.detect.series import SeriesDetector
    from workbench.workflows.nab import load_corpus, score_detector

    files = load_corpus(args.data, args.labels)
    results = score_detector(files, SeriesDetector(forest_voice=args.forest_voice), jobs=args.jobs)
    if args.json:
        print(json.dumps({name: round(r.score, 2) for name, r in results.items()}))
        return 0
    print(f"NAB scores over {len(files)} files, {results['standard'].windows} windows (null 0, perfect 100)")
    print(f"{'profile':<20} {'score':>6} {'threshold':>10} {'windows hit':>12} {'FP rows':>8}")
    for name, r in results.items():
        print(f"{name:<20} {r.score:6.1f} {r.threshold:10.5f} {r.detected_windows:>6}/{r.windows:<5} {r.false_positive_rows:8d}")
    return 0


def _cmd_pull(args: argparse.Namespace) -> int:
    import json

    from workbench.workflows.pull import pull

    config = _load_config(args.config)
    result = pull(
        config,
        since=args.since,
        start=args.start,
        end=args.end,
        services=args.services,
        store=args.store,
        progress=not args.json and sys.stderr.isatty(),
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0
    print(
        f"pulled {result.fetched:,} samples ({result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M} UTC) "
        f"in {result.seconds:.1f} s into the {result.store} store: {result.added:,} new, {result.changed:,} changed, "
        f"{result.up_to_date} of {result.series} series already up to date"
    )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import json

    from workbench.workflows.train import train_services

    config = _load_config(args.config)
    results = train_services(config, args.services or None, args.source or None)
    if args.json:
        print(json.dumps([{"service": r.service, "version": r.version, "folder": str(r.folder), **r.facts} for r in results], indent=2))
        return 0
    for r in results:
        print(f"{r.service}: saved version {r.version} ({r.facts['training windows']} training windows, "
              f"{r.facts['trained from']} to {r.facts['trained to']}) in {_shown(r.folder)}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    import json

    from workbench.workflows.score import score

    config = _load_config(args.config)
    result = score(
        config, args.services or None, at=args.at, start=args.start, end=args.end, dry_run=args.dry_run, source=args.source or None
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        for c in result.services:
            span = f"{c.windows} windows ({c.first} to {c.last})" if c.windows else "nothing new to score"
            print(f"{c.service}: {span}; opened {c.opened}, updated {c.updated}, resolved {c.resolved}; model {c.model}")
        delivered = ", ".join(f"{k} {v}" for k, v in result.delivery.delivered.items()) or "none"
        print(f"delivered: {delivered}" + (" (dry run: nothing written)" if result.dry_run else ""))
        for kind in ("retried", "dead", "skipped"):
            counts = getattr(result.delivery, kind)
            if counts:
                print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for sink, reason in result.refresh_errors.items():
        print(f"warning: {sink} could not re-assert the open episodes: {reason}", file=sys.stderr)
    if result.degraded:
        print("degraded: the model was skipped for " + ", ".join(c.service for c in result.services if c.degraded)
              + " (the rules still paged)", file=sys.stderr)
        return 1
    return 0


def _cmd_alerts(args: argparse.Namespace) -> int:
    import json

    from workbench.alerting.state import open_alert_state

    config = _load_config(args.config)
    with open_alert_state(config) as state:
        if args.alerts_command == "retry":
            count = state.retry_dead(args.sink)
            print(f"queued {count} dead letter(s) again" + (f" for {args.sink}" if args.sink else ""))
            return 0
        episodes = state.episodes("open")
        # Only the waiting and the dead rows: delivered ones pile up and are not shown.
        backlog = state.outbox("pending").groupby("sink").size().to_dict()
        dead = state.outbox("dead")
    if args.json:
        print(json.dumps({
            "open_episodes": episodes.to_dict(orient="records"),
            "backlog": backlog,
            "dead_letters": dead.to_dict(orient="records"),
        }, indent=2, default=str))
        return 0
    print(f"open episodes: {len(episodes)}")
    for ep in episodes.itertuples():
        print(f"  {ep.key}  {ep.action} ({ep.source}) since {ep.opened}  rules: {ep.rules or '-'}  confidence: {ep.confidence}")
    print("outbox backlog: " + (", ".join(f"{k} {v}" for k, v in backlog.items()) or "empty"))
    print(f"dead letters: {len(dead)}")
    for row in dead.itertuples():
        print(f"  #{row.id} {row.sink} {row.event} {row.episode}: {row.error}")
    return 0


def _cmd_forecast(args: argparse.Namespace) -> int:
    import json

    from workbench.forecast.capacity import backtest_table
    from workbench.workflows.capacity import (
        backtest_services,
        plan_capacity,
        usage_series,
    )

    config = _load_config(args.config)
    series = usage_series(config, args.source or None, args.services or None)
    if args.backtest:
        table = backtest_table(backtest_services(config, series=series), config.capacity.method)
        if args.json:
            print(json.dumps(table.to_dict(orient="records"), indent=2, default=float))
        else:
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return 0
    plan = plan_capacity(config, series=series)
    if args.json:
        print(json.dumps({"headline": plan.headline(), "plan": plan.records()}, indent=2, default=str))
        return 0
    cols = ["service", "resource", "provisioned", "recommended", "unit", "action", "monthly_cost_change", "days_to_saturation", "seasonality"]
    print(plan.table[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    print(", ".join(f"{k}: {v}" for k, v in plan.headline().items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="aiops-workbench: cut alert noise without missing incidents.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", help="workbench.yaml to use (default: the project's, or $WORKBENCH_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    report = sub.add_parser("report", help="run the notebooks and render HTML reports")
    report.add_argument("--notebooks", nargs="+", metavar="NAME", help="notebooks to run, e.g. 01_explore or 01 (default: all)")
    report.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="notebook parameter; repeat for more")
    report.add_argument("--run-id", help="folder name of the run under reports/ (default: UTC time)")
    report.set_defaults(func=_cmd_report)

    sample = sub.add_parser("sample", help="generate the bundled sample data (cached under data/sample/)")
    sample.add_argument("--force", action="store_true", help="regenerate the metrics even if cached")
    sample.add_argument("--write-labels", action="store_true", help="also overwrite data/incidents.csv and data/events.csv")
    sample.set_defaults(func=_cmd_sample)

    evaluate = sub.add_parser("evaluate", help="compare the old thresholds, the model and the hybrid on the labelled incidents")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.add_argument("--source", choices=SOURCES.names(), help="metric source (default: the configured one)")
    evaluate.add_argument("--services", nargs="+", help="services to evaluate (default: all)")
    evaluate.set_defaults(func=_cmd_evaluate)

    nab = sub.add_parser("nab", help="the Numenta Anomaly Benchmark: score files with the series detector")
    nab_sub = nab.add_subparsers(dest="nab_command", required=True)
    detect = nab_sub.add_parser("detect", help="write timestamp,value,anomaly_score for a NAB file (causal)")
    detect.add_argument("input", help="NAB CSV with timestamp,value")
    detect.add_argument("output", help="CSV to write")
    detect.add_argument("--forest-voice", action="store_true", help="add the Isolation Forest voice (slower)")
    detect.set_defaults(func=_cmd_nab_detect)
    score = nab_sub.add_parser("score", help="detect over a corpus and print NAB's normalised scores")
    score.add_argument("--data", required=True, help="folder with the CSVs (label keys are relative to it)")
    score.add_argument("--labels", required=True, help="combined_windows.json")
    score.add_argument("--jobs", type=int, default=2, help="parallel processes")
    score.add_argument("--json", action="store_true", help="print {profile: score} as JSON")
    score.add_argument("--forest-voice", action="store_true", help="add the Isolation Forest voice (slower)")
    score.set_defaults(func=_cmd_nab_score)

    train = sub.add_parser("train", help="train each service's model on its recent history and save a new version")
    train.add_argument("--services", nargs="+", help="services to train (default: all)")
    train.add_argument("--source", choices=SOURCES.names(), help="metric source (default: the configured one)")
    train.add_argument("--json", action="store_true", help="print the saved versions as JSON")
    train.set_defaults(func=_cmd_train)

    score = sub.add_parser("score", help="the live loop: score every new complete window, update episodes, deliver alerts")
    score.add_argument("--services", nargs="+", help="services (default: all)")
    score.add_argument("--at", help="act as if it were this time (ISO, UTC if no zone); default now")
    score.add_argument("--from", dest="start", help="replay the loop window by window from this time ...")
    score.add_argument("--to", dest="end", help="... to this time (both needed)")
    score.add_argument("--source", choices=SOURCES.names(), help="metric source (default: the configured one)")
    score.add_argument("--dry-run", action="store_true", help="compute everything, write and send nothing")
    score.add_argument("--json", action="store_true", help="print the run as JSON")
    score.set_defaults(func=_cmd_score)

    alerts = sub.add_parser("alerts", help="open episodes, the outbox backlog and dead letters; 'retry' re-queues dead letters")
    alerts_sub = alerts.add_subparsers(dest="alerts_command")
    alerts.add_argument("--json", action="store_true", help="print JSON")
    retry = alerts_sub.add_parser("retry", help="queue the dead letters again (after fixing their cause)")
    retry.add_argument("--sink", help="only this sink's")
    alerts.set_defaults(func=_cmd_alerts)

    forecast = sub.add_parser("forecast", help="capacity: forecast CPU, memory and traffic, right-size, cost, days to saturation")
    forecast.add_argument("--backtest", action="store_true", help="rolling-origin backtest against seasonal-naive and the 4-week median")
    forecast.add_argument("--json", action="store_true", help="print JSON")
    forecast.add_argument("--source", choices=SOURCES.names(), help="metric source (default: the configured one)")
    forecast.add_argument("--services", nargs="+", help="services (default: all)")
    forecast.set_defaults(func=_cmd_forecast)

    pull = sub.add_parser("pull", help="copy metrics from Prometheus into the store (incremental)")
    pull.add_argument("--since", default="30d", help="how far back to reach, e.g. 30d or 12h; only what the store lacks is fetched (default 30d)")
    pull.add_argument("--start", help="fetch this whole range instead (ISO time, UTC if no zone); upserted")
    pull.add_argument("--end", help="end of the range, exclusive (default: now)")
    pull.add_argument("--services", nargs="+", help="services to pull (default: all)")
    pull.add_argument("--store", choices=STORES.names(), help="the store to fill (default: store.kind)")
    pull.add_argument("--json", action="store_true", help="print the summary as JSON")
    pull.set_defaults(func=_cmd_pull)

    params = sub.add_parser("params", help="list each notebook's parameters")
    params.add_argument("notebooks", nargs="*", help="notebooks (default: all)")
    params.set_defaults(func=_cmd_params)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
