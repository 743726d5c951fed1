"""``headrace metadata``: checking and upgrading a store's schema (see docs/operations.md)."""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_parsers"]


def add_parsers(sub: Any) -> None:
    """Add this module's commands to the ``headrace`` parser's subcommands ``sub``."""
    p = sub.add_parser("metadata", help="check or upgrade a metadata store")
    cmds = p.add_subparsers(dest="metadata_command", metavar="check|upgrade")
    cmds.required = True
    q = cmds.add_parser(
        "check", help="schema version, counts, RUNNING executions and integrity of a store"
    )
    _store_options(q)
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(handler=_cmd_check)
    q = cmds.add_parser(
        "upgrade", help="migrate a store's schema to this ml-metadata's (back it up first)"
    )
    _store_options(q)
    q.set_defaults(handler=_cmd_upgrade)


def _store_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--metadata", metavar="URL", help="metadata store URL (or HEADRACE_METADATA)"
    )
    where.add_argument("--pipeline-root", metavar="DIR", help="the SQLite store in this root")


def _url(args: argparse.Namespace) -> str:
    from headrace_core.errors import HeadraceError
    from headrace_core.metadata import ENV_METADATA, default_metadata_url

    url: str | None = args.metadata
    if not url and args.pipeline_root:
        url = default_metadata_url(os.path.abspath(args.pipeline_root))
    url = url or os.environ.get(ENV_METADATA, "").strip()
    if not url:
        raise HeadraceError(
            "say which metadata store: --metadata URL, --pipeline-root DIR or HEADRACE_METADATA"
        )
    return url


def _cmd_check(args: argparse.Namespace) -> int:
    from headrace_core.cli._common import _print_json
    from headrace_core.metadata import check_store

    report = check_store(_url(args))
    if args.json:
        _print_json(report)
        return 1 if report["problems"] else 0
    print(f"store: {report['store']}")
    version = report.get("schema_version")
    if version is None:
        version = "this ml-metadata's" if report.get("schema_current") else "unknown"
    elif report.get("schema_current"):
        version = f"{version} (this ml-metadata's)"
    print(f"schema version: {version}")
    if "integrity" in report:
        print(f"integrity: {'ok' if report['integrity'] == ['ok'] else 'DAMAGED'}")
    for key in ("executions", "artifacts", "contexts"):
        if key in report:
            print(f"{key}: {report[key]}")
    if "running" in report:
        ids = report["running"]
        shown = ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else "")
        print(f"RUNNING executions: {len(ids)}" + (f" ({shown})" if ids else ""))
    for problem in report["problems"]:
        print(f"problem: {problem}")
    print("healthy" if not report["problems"] else "NOT healthy")
    return 1 if report["problems"] else 0


def _cmd_upgrade(args: argparse.Namespace) -> int:
    from headrace_core.metadata import redact, upgrade_store

    url = _url(args)
    before, after = upgrade_store(url)

    def v(n: int | None) -> str:
        return "this ml-metadata's" if n is None else str(n)

    if before == after:
        print(f"{redact(url)}: schema version {v(after)} is current; nothing to do")
    else:
        print(f"{redact(url)}: upgraded the schema from version {v(before)} to {v(after)}")
    return 0
