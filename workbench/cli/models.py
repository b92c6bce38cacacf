"""The model lifecycle's verbs: ``train``, ``retrain`` and ``models`` (list, show, promote, rollback, prune)."""

from __future__ import annotations

import argparse

from workbench.cli._common import (
    add_at,
    add_json,
    add_services,
    add_source,
    load_config,
    shown,
)

__all__ = ["register"]


def _cmd_train(args: argparse.Namespace) -> int:
    import json

    from workbench.workflows.train import train_services

    config = load_config(args.config)
    results = train_services(config, args.services or None, args.source or None)
    if args.json:
        print(json.dumps([{"service": r.service, "version": r.version, "champion": r.champion, "folder": str(r.folder), **r.facts} for r in results], indent=2))
        return 0
    for r in results:
        print(f"{r.service}: saved version {r.version} ({r.facts['training windows']} training windows, "
              f"{r.facts['trained from']} to {r.facts['trained to']}) in {shown(r.folder)}")
        if r.champion == r.version:
            print("  it is the champion (the service had none)")
        else:
            print(f"  the champion stays {r.champion}; compare with workbench retrain, or: workbench models promote {r.version} --service {r.service}")
    return 0


def register(sub) -> None:
    """Add this module's verbs to the ``workbench`` parser's subcommands."""
    train = sub.add_parser("train", help="train each service's model on its recent history and save a new version")
    add_services(train, "services to train")
    add_source(train)
    add_json(train, "print the saved versions as JSON")
    train.set_defaults(func=_cmd_train)
    _register_models(sub)


def _services(config, args) -> list[str]:
    return [config.check_service(s) for s in (args.services or list(config.services))]


def _version_row(meta: dict, current: dict[str, str]) -> dict:
    card = meta.get("card", {})
    return {
        "version": meta["version"],
        "saved_at": meta.get("saved_at"),
        "aliases": [alias for alias, version in current.items() if version == meta["version"]],
        "trained_from": card.get("trained_from", meta.get("trained from")),
        "trained_to": card.get("trained_to", meta.get("trained to")),
        "training_windows": card.get("training_windows", meta.get("training windows")),
        "sha256": meta.get("sha256"),
    }


def _cmd_models_list(args: argparse.Namespace) -> int:
    import json

    from workbench.lifecycle.aliases import aliases
    from workbench.lifecycle.versions import list_versions

    config = load_config(args.config)
    out = {}
    for service in _services(config, args):
        current = aliases(config, service)
        out[service] = [_version_row(meta, current) for meta in list_versions(config, service)]
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    for service, rows in out.items():
        print(f"{service}: {len(rows)} version(s)" + ("" if rows else " (workbench train or workbench retrain makes one)"))
        for r in rows:
            marks = f"  <- {', '.join(r['aliases'])}" if r["aliases"] else ""
            print(f"  {r['version']}  trained {str(r['trained_from'])[:16]} to {str(r['trained_to'])[:16]}, "
                  f"{r['training_windows']} windows{marks}")
    return 0


def _cmd_models_show(args: argparse.Namespace) -> int:
    import json

    from workbench.lifecycle.aliases import aliases, history
    from workbench.lifecycle.versions import list_versions
    from workbench.workflows.drift import drift_log

    config = load_config(args.config)
    service = config.check_service(args.service)
    current = aliases(config, service)
    versions = {m["version"]: m for m in list_versions(config, service)}
    rows = history(config, service)
    checks = drift_log(config, service)
    if args.json:
        print(json.dumps({"service": service, "aliases": current, "versions": versions, "history": rows, "drift": checks}, indent=2, default=str))
        return 0
    print(f"{service}")
    for alias in ("champion", "challenger"):
        version = current.get(alias)
        card = versions.get(version, {}).get("card", {}) if version else {}
        state = "none" if version is None else version + ("" if version in versions else "  (MISSING: the version folder is gone)")
        trained = f", trained to {card['trained_to'][:16]}" if card.get("trained_to") else ""
        print(f"  {alias:<10} {state}{trained}")
    print(f"  versions   {len(versions)}")
    print("  history (newest last):" if rows else "  history: none yet")
    for row in rows[-args.last:]:
        moves = ", ".join(f"{a} {m.get('from') or '-'} -> {m.get('to') or '-'}" for a, m in row["moves"].items()) or "no alias moved"
        print(f"    #{row.get('seq')} {row['at']} {row['action']} by {row.get('by', '?')}: {moves}")
        if row.get("reason"):
            print(f"        {row['reason']}")
    print("  drift checks (newest last):" if checks else "  drift checks: none yet (workbench retrain checks drift)")
    for check in checks[-args.last:]:
        reasons = [r for r in check.get("reasons", []) if not r.startswith("ok")]
        print(f"    {check['at'][:16]} {check['status']:<7} {check.get('windows', 0)} windows" + (f": {reasons[0]}" if reasons else ""))
    return 0


def _cmd_models_promote(args: argparse.Namespace) -> int:
    from workbench.lifecycle.aliases import set_alias
    from workbench.lifecycle.versions import verify_version

    config = load_config(args.config)
    service = config.check_service(args.service)
    verify_version(config, service, args.version)  # a damaged version is refused before any alias moves
    row = set_alias(config, service, args.alias, args.version, reason=args.reason or "promoted by hand")
    move = row["moves"][args.alias]
    print(f"{service}: {args.alias} {move['from'] or '-'} -> {move['to']}")
    return 0


def _cmd_models_rollback(args: argparse.Namespace) -> int:
    from workbench.lifecycle.aliases import rollback

    config = load_config(args.config)
    service = config.check_service(args.service)
    row = rollback(config, service, args.to, reason=args.reason or "")
    move = row["moves"]["champion"]
    print(f"{service}: champion {move['from'] or '-'} -> {move['to']} (rolled back)")
    return 0


def _cmd_models_prune(args: argparse.Namespace) -> int:
    import json

    from workbench.lifecycle.aliases import prune

    config = load_config(args.config)
    removed = {service: prune(config, service, args.keep, dry_run=args.dry_run) for service in _services(config, args)}
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, "removed": removed}, indent=2))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for service, versions in removed.items():
        print(f"{service}: {verb} {len(versions)} version(s)" + (f": {', '.join(versions)}" if versions else ""))
    return 0


def _cmd_retrain(args: argparse.Namespace) -> int:
    import json

    from workbench.workflows.retrain import retrain

    config = load_config(args.config)
    results = retrain(config, args.services or None, at=args.at, source=args.source or None, when_due=args.when_due)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2, default=str))
        return 0
    for r in results:
        drift = f"; drift {r.drift['status']}" if r.drift else ""
        print(f"{r.service}: {r.verdict.replace('_', ' ')}; champion {r.champion or '-'}"
              + (f" (was {r.previous_champion})" if r.champion != r.previous_champion else "") + drift + f" [{r.seconds:.1f} s]")
        for reason in r.reasons:
            print(f"  - {reason}")
    return 0


def _register_models(sub) -> None:
    retrain = sub.add_parser("retrain", help="train a challenger, compare it with the champion on the same windows, promote or keep")
    add_services(retrain, "services")
    add_at(retrain)
    retrain.add_argument("--when-due", action="store_true", help="only where due: weekly (model.retrain_every) or drift acted; checks drift first")
    add_source(retrain)
    add_json(retrain, "print the verdicts with their figures as JSON")
    retrain.set_defaults(func=_cmd_retrain)

    models = sub.add_parser("models", help="model versions and their aliases: list, show, promote, rollback, prune")
    verbs = models.add_subparsers(dest="models_command", required=True)
    listing = verbs.add_parser("list", help="every version of each service, with its aliases")
    add_services(listing, "services")
    add_json(listing, "print JSON")
    listing.set_defaults(func=_cmd_models_list)
    show = verbs.add_parser("show", help="a service's champion, challenger, alias history and drift checks")
    show.add_argument("--service", required=True)
    show.add_argument("--last", type=int, default=10, help="history rows and drift checks to print (default 10)")
    add_json(show, "print JSON (all of the history)")
    show.set_defaults(func=_cmd_models_show)
    promote = verbs.add_parser("promote", help="make VERSION the champion (or --alias challenger); recorded in the history")
    promote.add_argument("version")
    promote.add_argument("--service", required=True)
    promote.add_argument("--alias", choices=("champion", "challenger"), default="champion")
    promote.add_argument("--reason", help="why, for the history")
    promote.set_defaults(func=_cmd_models_promote)
    rollback = verbs.add_parser("rollback", help="make the previous champion (or --to VERSION) the champion again")
    rollback.add_argument("--service", required=True)
    rollback.add_argument("--to", help="the version to restore (default: the champion before the current one)")
    rollback.add_argument("--reason", help="why, for the history")
    rollback.set_defaults(func=_cmd_models_rollback)
    prune = verbs.add_parser("prune", help="remove old versions; never an aliased one or one aliased within lifecycle.protect")
    prune.add_argument("--keep", type=int, required=True, help="newest versions to keep per service")
    add_services(prune, "services")
    prune.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    add_json(prune, "print JSON")
    prune.set_defaults(func=_cmd_models_prune)
