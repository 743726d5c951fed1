"""``headrace gc``: removing what old runs left behind (see docs/operations.md)."""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_parsers"]

_REASONS = {
    "artifact": "artifacts of collected runs",
    "deleted": "files of artifacts already marked DELETED",
    "unpublished": "outputs a killed launch never published",
    "staging": "abandoned staging folders",
    "scratch": "abandoned scratch folders (.tmp)",
    "run files": "run files and logs of collected runs",
}


def add_parsers(sub: Any) -> None:
    """Add this module's commands to the ``headrace`` parser's subcommands ``sub``."""
    p = sub.add_parser(
        "gc",
        help="delete old runs' artifacts and abandoned folders of a pipeline root",
        description=(
            "Mark the artifacts of old runs DELETED in ML Metadata and remove their files, "
            "keeping what the pipeline still needs: everything the kept runs read or wrote, "
            "the latest outputs of each node, the latest blessed model and every pushed model. "
            "Also removes staging, scratch and unpublished folders that no running execution "
            "owns. Prints what it would free first; --dry-run stops there."
        ),
    )
    p.add_argument("--pipeline-root", metavar="DIR", required=True, help="the root to clean")
    p.add_argument(
        "--metadata",
        metavar="URL",
        help="the root's metadata store (default: HEADRACE_METADATA, else SQLite in the root)",
    )
    p.add_argument(
        "--keep-last",
        type=int,
        default=10,
        metavar="N",
        help="keep the last N runs of each pipeline whatever their age (default 10, at least 1)",
    )
    p.add_argument(
        "--older-than",
        type=float,
        metavar="DAYS",
        help="collect only runs that started more than DAYS days ago",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would go; change nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_gc)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _print_plan(plan: Any, verbose: bool) -> None:
    print(f"gc of {plan.root} (store {plan.store})")
    print(
        f"runs: {plan.runs}; keeping {len(plan.kept_runs)}, collecting {len(plan.collected_runs)}"
    )
    groups: dict[str, list[Any]] = {}
    for removal in plan.removals:
        groups.setdefault(removal.reason, []).append(removal)
    print(f"would free {_human(plan.size)}" + (":" if groups else " (nothing to remove)"))
    for reason, label in _REASONS.items():
        found = groups.get(reason, [])
        if found:
            print(f"  {len(found):>5}  {label}: {_human(sum(r.size for r in found))}")
            if verbose:
                for r in found:
                    print(f"         {os.path.relpath(r.path, plan.root)}  {_human(r.size)}")
    if plan.kept:
        parts = ", ".join(f"{n} {reason}" for reason, n in sorted(plan.kept.items()))
        print(f"kept from collected runs: {parts}")
    if plan.running:
        print(f"left alone: {len(plan.running)} folders of executions still RUNNING")


def _cmd_gc(args: argparse.Namespace) -> int:
    from headrace_core.cli._common import _print_json, _store
    from headrace_core.gc import apply_gc, plan_gc

    args.pipeline_root = os.path.abspath(args.pipeline_root)
    store = _store(args)
    plan = plan_gc(
        store, args.pipeline_root, keep_last=args.keep_last, older_than_days=args.older_than
    )
    if args.json:
        report: dict[str, Any] = {"plan": plan.as_dict(), "dry_run": args.dry_run}
        if not args.dry_run:
            report["result"] = apply_gc(store, plan).as_dict()
        _print_json(report)
        return 1 if report.get("result", {}).get("errors") else 0
    _print_plan(plan, verbose=args.dry_run)
    if args.dry_run:
        print("dry run: nothing changed")
        return 0
    result = apply_gc(store, plan, progress=print)
    print(
        f"deleted {len(result.deleted)} artifacts, removed {len(result.removed)} folders: "
        f"freed {_human(result.freed)}"
    )
    for error in result.errors:
        print(f"could not remove {error}")
    return 1 if result.errors else 0
