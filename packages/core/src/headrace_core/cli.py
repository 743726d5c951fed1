"""The ``headrace`` command.

Start-up stays fast: this module imports only the standard library at the top; each command
imports what it needs when it runs, and none imports an executor.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["main"]

_Handler = Callable[[argparse.Namespace], int]


def _cmd_plugins(args: argparse.Namespace) -> int:
    from headrace_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    rows: list[dict[str, Any]] = []
    for kind, registry in (
        ("artifact_type", manager.artifact_types),
        ("component", manager.components),
        ("orchestrator", manager.orchestrators),
    ):
        for entry in registry.entries():
            rows.append(
                {
                    "name": entry.name,
                    "kind": kind,
                    "distribution": entry.provenance.distribution,
                    "version": entry.provenance.version,
                    "plugin": entry.provenance.plugin,
                }
            )
    errors = [
        {"plugin": e.plugin, "distribution": e.distribution, "stage": e.stage, "error": str(e)}
        for e in manager.errors
    ]
    if args.json:
        plugins = [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "hooks": list(p.hooks),
                "builtin": p.builtin,
            }
            for p in manager.plugins()
        ]
        json.dump({"entries": rows, "plugins": plugins, "errors": errors}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        headers = ("KIND", "NAME", "DISTRIBUTION", "VERSION")
        table = [
            (r["kind"].replace("_", " "), r["name"], r["distribution"], r["version"]) for r in rows
        ]
        widths = [
            max(len(h), *(len(t[i]) for t in table)) if table else len(h)
            for i, h in enumerate(headers)
        ]
        for line in [headers, *table]:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    for e in manager.errors:
        print(f"headrace: plugin load error: {e}", file=sys.stderr)
    return 1 if (args.strict and manager.errors) else 0


def _cmd_compile(args: argparse.Namespace) -> int:
    from headrace_core import ir
    from headrace_core.pipeline_file import load_pipeline_file

    pipeline = load_pipeline_file(args.pipeline_file)
    document = ir.compile(pipeline)
    if args.validate:
        ir.validate(document)
    text = ir.dumps(document)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        directory = os.path.dirname(os.path.abspath(args.output))
        os.makedirs(directory, exist_ok=True)
        tmp = f"{args.output}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.output)
        print(
            f"compiled {pipeline.pipeline_name!r} ({len(pipeline.components)} nodes) "
            f"to {args.output}",
            file=sys.stderr,
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    from headrace_core.__about__ import __version__

    parser = argparse.ArgumentParser(
        prog="headrace",
        description="headrace: production ML pipelines in the architecture of TFX.",
    )
    parser.add_argument("--version", action="version", version=f"headrace-core {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("plugins", help="list installed plugins and what they register")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--strict", action="store_true", help="exit with status 1 if any plugin failed to load"
    )
    p.set_defaults(handler=_cmd_plugins)

    p = sub.add_parser("compile", help="compile a pipeline file to the portable IR (JSON)")
    p.add_argument("pipeline_file", metavar="PIPELINE_FILE")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    p.add_argument(
        "--validate",
        action="store_true",
        help="check the document against the IR's JSON Schema (needs jsonschema)",
    )
    p.set_defaults(handler=_cmd_compile)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: _Handler = args.handler
    from headrace_core.errors import HeadraceError

    try:
        return handler(args)
    except HeadraceError as e:
        message = str(e).splitlines()
        print(f"headrace: error: {message[0] if message else type(e).__name__}", file=sys.stderr)
        for extra in message[1:]:
            print(extra, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("headrace: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as other CLIs do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
