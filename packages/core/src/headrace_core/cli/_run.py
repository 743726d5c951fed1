"""``headrace plugins``, ``compile`` and ``run``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from headrace_core.cli._common import (
    _load_document,
    _orchestrator,
    _parse_options,
    _print_json,
    _split_nodes,
    _stdout_to_stderr,
    _warn_plugin_errors,
    _write_atomically,
)


def _cmd_plugins(args: argparse.Namespace) -> int:
    from headrace_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    rows: list[dict[str, Any]] = []
    for kind, registry in (
        ("artifact_type", manager.artifact_types),
        ("component", manager.components),
        ("orchestrator", manager.orchestrators),
        ("viewer", manager.viewers),
        ("command", manager.commands),
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
    from headrace_core.errors import HeadraceError
    from headrace_core.pipeline_file import load_pipeline_file

    _warn_plugin_errors()
    pipeline = load_pipeline_file(args.pipeline_file)
    document = ir.compile(pipeline)
    if args.pipeline_root:
        document["pipeline"]["root"] = os.path.abspath(args.pipeline_root)
    if args.validate:
        ir.validate(document)
    if args.target != "ir":
        if args.output in (None, "-"):
            raise HeadraceError(f"--target {args.target} writes a file: give it with -o FILE")
        compiler = _orchestrator(args.target, "compiler")
        text = compiler(document, options=_parse_options(args.option))
    elif args.option:
        raise HeadraceError("--option applies to --target other than ir")
    else:
        text = ir.dumps(document)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        _write_atomically(args.output, text)
        print(
            f"compiled {pipeline.pipeline_name!r} ({len(pipeline.components)} nodes) "
            f"for {args.target} to {args.output}",
            file=sys.stderr,
        )
    return 0


# Running ---------------------------------------------------------------------------------------


def _start(
    runner: Any,
    document: dict[str, Any],
    run_id: str,
    from_nodes: list[str] | None,
    to_nodes: list[str] | None,
    resume: str | None,
) -> Any:
    if resume:
        return runner.run(document, resume=resume)
    if from_nodes or to_nodes:
        # The same run id as the capture's: the logs are found under the run MLMD records.
        return runner.run(document, run_id=run_id, from_nodes=from_nodes, to_nodes=to_nodes)
    return runner.run(document, run_id=run_id)


def _cmd_run(args: argparse.Namespace) -> int:
    from headrace_core._console import RunConsole
    from headrace_core._run_report import print_failures, print_run_start, print_run_summary
    from headrace_core.errors import HeadraceError
    from headrace_core.metadata import child_environment, conceal, redact
    from headrace_core.orchestration.local import LocalDagRunner
    from headrace_core.runtime import PipelineLayout, Status, new_run_id, pipeline_metadata_url

    # Kept by this process from here on: nothing below prints or passes on the password.
    args.metadata = conceal(args.metadata)
    if args.dry_run:
        _warn_plugin_errors()
    document = _load_document(args)
    # Every process the run starts (node processes, Beam workers, Airflow and KFP tasks)
    # inherits the store's password in its environment, never on its command line.
    os.environ.update(child_environment(pipeline_metadata_url(document, args.metadata), {}))
    width = max(len(n["id"]) for n in document["nodes"])
    quiet = args.json
    console = RunConsole(width, quiet=quiet, verbose=args.verbose)
    show = console.event

    from_nodes, to_nodes = _split_nodes(args.from_nodes), _split_nodes(args.to_nodes)
    runner: Any
    if args.dry_run or args.orchestrator == "local":
        # A plan reads the store only; it is the same whichever orchestrator would run it.
        if args.orchestrator_arg and not args.dry_run:
            raise HeadraceError(
                "--orchestrator-arg is for other orchestrators; the local runner takes "
                "--max-parallel and --isolation"
            )
        runner = LocalDagRunner(
            max_parallel=args.max_parallel,
            isolation=args.isolation,
            metadata_url=args.metadata,
            on_event=show,
        )
    else:
        local_only = [
            flag
            for flag, value in (
                ("--from-nodes", from_nodes),
                ("--to-nodes", to_nodes),
                ("--resume", args.resume),
                ("--max-parallel", args.max_parallel),
                ("--isolation", args.isolation != "in-process"),
            )
            if value
        ]
        if local_only:
            raise HeadraceError(
                f"{', '.join(local_only)}: the local orchestrator's options, not "
                f"{args.orchestrator!r}'s"
            )
        runner = _orchestrator(args.orchestrator, "runner")(
            metadata_url=args.metadata, on_event=show, options=list(args.orchestrator_arg)
        )
    if args.dry_run:
        plan = (
            runner.plan(document, resume=args.resume)
            if args.resume
            else runner.plan(document, from_nodes=from_nodes, to_nodes=to_nodes)
        )
        if args.json:
            _print_json(
                [
                    {
                        "node_id": p.node_id,
                        "status": p.status,
                        "reason": p.reason,
                        "cache_key": p.cache_key,
                    }
                    for p in plan
                ]
            )
            return 0
        print(f"plan for {document['pipeline']['name']!r} (nothing is run):")
        for p in plan:
            print(f"  {p.node_id.ljust(width)}  {p.status:8} {p.reason}")
        cached = sum(1 for p in plan if p.status == Status.CACHED)
        print(f"{cached} of {len(plan)} nodes predicted cached")
        return 0
    if not quiet:
        print_run_start(document, args.orchestrator, pipeline_metadata_url(document, args.metadata))
    run_id = args.resume or new_run_id()
    if args.orchestrator == "local":
        # Node output goes to per-node logs; the console keeps headrace's lines (on standard
        # error with --json, whose standard output is the JSON alone).
        layout = PipelineLayout(document["pipeline"]["root"])
        with console.capturing(layout, run_id, err=args.json):
            result = _start(runner, document, run_id, from_nodes, to_nodes, args.resume)
    elif args.json:
        # Executors print (Keras progress, Beam, TensorFlow's C++ logs): keep standard output
        # for the JSON alone by sending everything else to standard error, file descriptors
        # included.
        with _stdout_to_stderr():
            result = _start(runner, document, run_id, from_nodes, to_nodes, args.resume)
    else:
        result = _start(runner, document, run_id, from_nodes, to_nodes, args.resume)
    # A failed run names every broken plugin: one may be why it failed.
    _warn_plugin_errors(everything=not result.succeeded)
    if args.json:
        _print_json(dict(result.to_json(), metadata=redact(result.metadata_url)))
    else:
        print_run_summary(result, document)
    if not result.succeeded:
        print_failures(result, document, verbose=args.verbose, local=args.orchestrator == "local")
        return 1
    return 0


# Inspection --------------------------------------------------------------------------------------
