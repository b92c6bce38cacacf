"""The analysis verbs: ``evaluate``, ``nab``, ``forecast``, ``pull``."""

from __future__ import annotations

import argparse
import sys

from workbench._registry import STORES
from workbench.cli._common import (
    add_json,
    add_services,
    add_source,
    load_config,
)

__all__ = ["register"]


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from workbench.evaluate.events import SYSTEMS
    from workbench.workflows.evaluate import run_systems

    config = load_config(args.config)
    if args.seeds:
        return _evaluate_seeds(config, args)
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


def _evaluate_seeds(config, args: argparse.Namespace) -> int:
    import json

    from workbench.present.tables import plain_table
    from workbench.workflows.seeds import evaluate_seeds, parse_seeds, seeds_table

    results = evaluate_seeds(config, parse_seeds(args.seeds), services=args.services or None)
    if args.json:
        print(json.dumps([r.as_dict() for r in results]))
        return 0
    table = seeds_table(results)
    for column in ("fewer alerts", "false-positive share"):
        table[column] = table[column].map(lambda v: f"{v:.0%}" if v == v else "-")
    print(plain_table(table).to_string(index=False))
    for r in results:
        print(f"seed {r.seed}: hybrid false alarms by likely cause: {r.causes_words()}; missed by kind: {r.missed_words()}")
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


def _cmd_forecast(args: argparse.Namespace) -> int:
    import json

    from workbench.forecast.capacity import backtest_table
    from workbench.workflows.capacity import (
        backtest_services,
        plan_capacity,
        usage_series,
    )

    config = load_config(args.config)
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
    figures = dict(plan.headline())
    answer = figures.pop("answer", None)
    print(", ".join(f"{k}: {v}" for k, v in figures.items()))
    if answer:
        print(answer)  # the answer last, on its own line: what a terminal shows above the prompt
    return 0


def _cmd_pull(args: argparse.Namespace) -> int:
    import json

    from workbench.workflows.pull import pull

    if args.check:
        return _pull_check(args)
    config = load_config(args.config)
    result = pull(
        config,
        since=args.since or "30d",
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


def _pull_check(args: argparse.Namespace) -> int:
    """``pull --check``: per service and metric, what the query returns; exit 1 on any problem."""
    import json

    from workbench.workflows.pull import check

    config = load_config(args.config)
    settings = config.source.prometheus
    start, end, rows = check(config, since=args.since or "1h", start=args.start, end=args.end, services=args.services)
    problems = sum(row["problem"] is not None for row in rows)
    if args.json:
        span = {"start": start.isoformat(), "end": end.isoformat()}
        print(json.dumps({**span, "query_set": settings.query_set, "service_label": settings.service_label, "problems": problems, "queries": rows}, indent=2))
        return 1 if problems else 0
    print(
        f"query set {settings.query_set}, service label `{settings.service_label}`, "
        f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC; nothing is stored"
    )
    width = max(len(row["service"]) for row in rows)
    print(f"{'service':<{width}}  {'metric':<12} {'series':>6} {'samples':>8}  problem")
    for row in rows:
        print(f"{row['service']:<{width}}  {row['metric']:<12} {row['series']:>6} {row['samples']:>8,}  {row['problem'] or 'ok'}")
        print(f"{'':<{width}}  {row['query']}")
    print(f"{problems} of {len(rows)} queries have a problem" if problems else f"all {len(rows)} queries return one series each")
    return 1 if problems else 0


def _cmd_review(args: argparse.Namespace) -> int:
    import json

    from workbench.runbooks.llm import LLMSettings
    from workbench.workflows.review import review

    result = review(load_config(args.config), args.incident, source=args.source or None, llm=LLMSettings.from_env())
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print(result.retrieval.message)
    print(result.wording.text)
    if result.wording.reason:
        print(f"({result.wording.reason})")
    return 0


def register(sub) -> None:
    """Add this module's verbs to the ``workbench`` parser's subcommands."""
    review = sub.add_parser("review", help="after an incident: similar past incidents and the steps that resolved them")
    review.add_argument("incident", nargs="?", help="an incident id, or a live episode key from `workbench alerts` (default: the latest labelled incident)")
    add_json(review, "print the review as JSON")
    add_source(review)
    review.set_defaults(func=_cmd_review)
    evaluate = sub.add_parser("evaluate", help="compare the old thresholds, the model and the hybrid on the labelled incidents")
    add_json(evaluate, "print the figures as JSON")
    add_source(evaluate)
    add_services(evaluate, "services to evaluate")
    evaluate.add_argument(
        "--seeds", help="evaluate draws of the sample with these seeds instead (7,11,13 or 11-14): per seed and the spread, "
        "with the hybrid's false alarms by likely cause and misses by kind; the project's data are not touched",
    )
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
    add_json(score, "print {profile: score} as JSON")
    score.add_argument("--forest-voice", action="store_true", help="add the Isolation Forest voice (slower)")
    score.set_defaults(func=_cmd_nab_score)

    forecast = sub.add_parser("forecast", help="capacity: forecast CPU, memory and traffic, right-size, cost, days to saturation")
    forecast.add_argument("--backtest", action="store_true", help="rolling-origin backtest against seasonal-naive and the 4-week median")
    add_json(forecast, "print JSON")
    add_source(forecast)
    add_services(forecast, "services")
    forecast.set_defaults(func=_cmd_forecast)

    pull = sub.add_parser("pull", help="copy metrics from Prometheus into the store (incremental)")
    pull.add_argument(
        "--since", help="how far back to reach, e.g. 30d or 12h; only what the store lacks is fetched (default 30d; with --check 1h)"
    )
    pull.add_argument("--start", help="fetch this whole range instead (ISO time, UTC if no zone); upserted")
    pull.add_argument("--end", help="end of the range, exclusive (default: now)")
    add_services(pull, "services to pull")
    pull.add_argument("--store", choices=STORES.names(), help="the store to fill (default: store.kind)")
    pull.add_argument(
        "--check",
        action="store_true",
        help="store nothing: per service and metric, print the query, the series and samples it returns and any problem; exit 1 if any",
    )
    add_json(pull, "print the summary (with --check: every query) as JSON")
    pull.set_defaults(func=_cmd_pull)
