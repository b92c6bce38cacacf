"""The live loop's verbs: ``score`` (one cycle) and ``alerts`` (episodes, backlog, dead letters)."""

from __future__ import annotations

import argparse
import sys

from workbench.cli._common import (
    add_at,
    add_json,
    add_services,
    add_source,
    load_config,
)

__all__ = ["register"]


def _cmd_score(args: argparse.Namespace) -> int:
    import json

    from workbench.workflows.score import score

    config = load_config(args.config)
    result = score(
        config, args.services or None, at=args.at, start=args.start, end=args.end, dry_run=args.dry_run, source=args.source or None
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        for c in result.services:
            span = f"{c.windows} windows ({c.first} to {c.last})" if c.windows else "nothing new to score"
            shadow = f"; challenger {c.challenger} shadow {c.shadow}" if c.challenger and c.windows else ""
            print(f"{c.service}: {span}; opened {c.opened}, updated {c.updated}, resolved {c.resolved}; model {c.model}{shadow}")
        delivered = ", ".join(f"{k} {v}" for k, v in result.delivery.delivered.items()) or "none"
        print(f"delivered: {delivered}" + (" (dry run: nothing written)" if result.dry_run else ""))
        for kind in ("retried", "dead", "skipped"):
            counts = getattr(result.delivery, kind)
            if counts:
                print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for sink, reason in result.refresh_errors.items():
        print(f"warning: {sink} could not re-assert the open episodes: {reason}", file=sys.stderr)
    for c in result.services:
        if c.advice:
            # Not a failure: the page went out; it only lacks the runbook advice.
            print(f"note: {c.service}: a page went without runbook advice ({c.advice.removeprefix('skipped: ')})", file=sys.stderr)
        if c.shadow.startswith("skipped"):
            print(f"warning: {c.service}: the challenger {c.challenger} could not shadow-score ({c.shadow}); "
                  "the champion's alerts are unaffected", file=sys.stderr)
    if result.degraded:
        print("degraded: the model was skipped for " + ", ".join(c.service for c in result.services if c.degraded)
              + " (the rules still paged)", file=sys.stderr)
        return 1
    return 0


def _cmd_alerts(args: argparse.Namespace) -> int:
    import json

    from workbench.alerting.state import open_alert_state

    config = load_config(args.config)
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
            # Missing numbers (a rules-only episode's confidence and tail) as null, not NaN.
            "open_episodes": episodes.astype(object).where(episodes.notna(), None).to_dict(orient="records"),
            "backlog": backlog,
            "dead_letters": dead.to_dict(orient="records"),
        }, indent=2, default=str))
        return 0
    print(f"open episodes: {len(episodes)}")
    for ep in episodes.itertuples():
        print(f"  {ep.key}  {ep.action} ({ep.source}) since {ep.opened}  rules: {ep.rules or '-'}  confidence: {ep.confidence}{f' ({ep.unusual})' if ep.unusual else ''}")
        if ep.suggestion:
            print(f"    suggested step: {ep.suggestion} (as in {ep.citations})")
    print("outbox backlog: " + (", ".join(f"{k} {v}" for k, v in backlog.items()) or "empty"))
    print(f"dead letters: {len(dead)}")
    for row in dead.itertuples():
        print(f"  #{row.id} {row.sink} {row.event} {row.episode}: {row.error}")
    return 0


def register(sub) -> None:
    """Add this module's verbs to the ``workbench`` parser's subcommands."""
    score = sub.add_parser("score", help="the live loop: score every new complete window, update episodes, deliver alerts")
    add_services(score, "services")
    add_at(score)
    score.add_argument("--from", dest="start", help="replay the loop window by window from this time ...")
    score.add_argument("--to", dest="end", help="... to this time (both needed)")
    add_source(score)
    score.add_argument("--dry-run", action="store_true", help="compute everything, write and send nothing")
    add_json(score, "print the run as JSON")
    score.set_defaults(func=_cmd_score)

    alerts = sub.add_parser("alerts", help="open episodes, the outbox backlog and dead letters; 'retry' re-queues dead letters")
    alerts_sub = alerts.add_subparsers(dest="alerts_command")
    add_json(alerts, "print JSON")
    retry = alerts_sub.add_parser("retry", help="queue the dead letters again (after fixing their cause)")
    retry.add_argument("--sink", help="only this sink's")
    alerts.set_defaults(func=_cmd_alerts)
