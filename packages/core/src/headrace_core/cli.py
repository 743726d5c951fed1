"""The ``headrace`` command.

Start-up stays fast: this module imports only the standard library at the top; each command
imports what it needs when it runs, and none imports an executor.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
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
        ("viewer", manager.viewers),
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


def _write_atomically(path: str, text: str) -> None:
    """Write ``path`` whole or not at all; a failure is one clear error, with no temp file left."""
    from headrace_core.errors import HeadraceError

    if os.path.isdir(path):
        raise HeadraceError(f"{path}: is a directory; give a file name")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise HeadraceError(f"cannot write {path}: {e.strerror or e}") from e


def _orchestrator(name: str, role: str) -> Any:
    """The registered orchestrator ``name``'s runner class or compiler function."""
    from headrace_core.errors import HeadraceError
    from headrace_core.executor import import_ref
    from headrace_core.plugins import get_plugin_manager

    registry = get_plugin_manager().orchestrators
    if name not in registry:
        known = ", ".join(sorted(n for n in registry if getattr(registry.get(n), role)))
        raise HeadraceError(
            f"no orchestrator {name!r} is installed (pip install headrace-{name}?); "
            f"{role}s available: {known or 'none'}"
        )
    ref = getattr(registry.get(name), role)
    if ref is None:
        other = "headrace compile --target" if role == "runner" else "headrace run --orchestrator"
        raise HeadraceError(f"orchestrator {name!r} has no {role}; use {other} {name}")
    try:
        return import_ref(ref)
    except Exception as e:  # a broken adapter install: name it
        raise HeadraceError(f"orchestrator {name!r}: cannot import {ref}: {e}") from e


def _parse_options(values: list[str] | None) -> dict[str, str]:
    from headrace_core.errors import HeadraceError

    options: dict[str, str] = {}
    for value in values or []:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise HeadraceError(f"--option {value!r}: expected KEY=VALUE")
        options[key] = item
    return options


def _warn_plugin_errors(*, everything: bool = True) -> None:
    """One line on standard error per plugin that failed to load. Commands that use plugins
    call it: a broken plugin otherwise shows up later as a missing component or
    orchestrator, with no hint that it was ever installed. ``everything=False`` names only
    the plugins loaded so far (a successful run loads no plugin it does not need, and must
    not pay to import them all for a warning)."""
    from headrace_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    for e in manager.errors if everything else manager.loaded_errors:
        first = (str(e).splitlines() or [type(e).__name__])[0]
        print(f"headrace: warning: {first}", file=sys.stderr)


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


def _split_nodes(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [n for v in values for n in v.split(",") if n]


def _load_document(args: argparse.Namespace) -> dict[str, Any]:
    from headrace_core import ir
    from headrace_core.pipeline_file import load_pipeline_file

    document = ir.compile(load_pipeline_file(args.pipeline_file))
    if getattr(args, "pipeline_root", None):
        document["pipeline"]["root"] = os.path.abspath(args.pipeline_root)
    return document


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _start(
    runner: Any,
    document: dict[str, Any],
    run_id: str,
    from_nodes: list[str] | None,
    to_nodes: list[str] | None,
    resume: str | None,
) -> Any:
    if from_nodes or to_nodes or resume:
        return runner.run(document, from_nodes=from_nodes, to_nodes=to_nodes, resume=resume)
    return runner.run(document, run_id=run_id)


def _print_run_summary(result: Any, width: int, producers: set[str]) -> None:
    """Each node's status and duration, then the headlines of the artifacts that matter (a
    model's metrics, its blessing, where it was pushed), from viewers that ask for it."""
    from headrace_core._console import LABELS
    from headrace_core.runtime import Status

    print("\nsummary:")
    for node_id, r in result.results.items():
        label = LABELS.get(r.status, r.status)
        print(f"  {node_id.ljust(width)}  {label:8} {r.duration:7.2f}s")
    for node_id in result.not_run:
        print(f"  {node_id.ljust(width)}  {LABELS[Status.NOT_RUN]}")
    try:
        headlines = _headlines(result, producers)
    except Exception as e:  # a summary must not fail a run that succeeded
        headlines = [("", f"(headlines unavailable: {e})")]
    for node_id, line in headlines:
        print(f"  {node_id.ljust(width)}  {line}")
    print()


def _headlines(result: Any, producers: set[str]) -> list[tuple[str, str]]:
    from headrace_core.executor import import_ref
    from headrace_core.metadata import MetadataStore
    from headrace_core.plugins import get_plugin_manager
    from headrace_core.show import artifact_from_store

    viewers = get_plugin_manager().viewers
    wanted = {n: viewers.get(n).viewer for n in viewers if viewers.get(n).run_summary}
    outputs = {
        node_id: [i for ids in r.to_json()["outputs"].values() for i in ids]
        for node_id, r in result.results.items()
        if node_id in producers
    }
    if not wanted or not any(outputs.values()):
        return []
    store = MetadataStore(result.metadata_url)
    lines: list[tuple[str, str]] = []
    for node_id, ids in outputs.items():
        for proto in store.artifacts(ids):
            type_name = store.artifact_type_name(proto.type_id)
            if type_name not in wanted:
                continue
            try:
                headline = import_ref(wanted[type_name])(artifact_from_store(store, proto)).headline
            except Exception as e:  # one broken viewer must not hide the other headlines
                headline = f"({type_name} #{proto.id}: viewer failed: {e})"
            if headline:
                lines.append((node_id, headline))
    return lines


def _cmd_run(args: argparse.Namespace) -> int:
    from headrace_core._console import RunConsole
    from headrace_core.errors import HeadraceError
    from headrace_core.orchestration.local import LocalDagRunner
    from headrace_core.runtime import PipelineLayout, Status, new_run_id, pipeline_metadata_url

    if args.dry_run:
        _warn_plugin_errors()
    document = _load_document(args)
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
        print(
            f"running {document['pipeline']['name']!r}: {len(document['nodes'])} nodes "
            f"on {args.orchestrator}, metadata in "
            f"{pipeline_metadata_url(document, args.metadata)}",
            flush=True,
        )
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
        _print_json(result.to_json())
    else:
        counts: dict[str, int] = {}
        for r in result.results.values():
            counts[r.status] = counts.get(r.status, 0) + 1
        if result.not_run:
            counts["not run"] = len(result.not_run)
        summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        # Resolvers and importers only link artifacts that their producers already headline.
        producers = {n["id"] for n in document["nodes"] if n.get("kind") == "component"}
        _print_run_summary(result, width, producers)
        print(f"run {result.run_id}: {summary} in {result.duration:.1f}s")
    if not result.succeeded:
        for node_id in result.failed_nodes:
            failure = result.results[node_id]
            print(
                f"headrace: error: node {node_id!r} failed: "
                f"{failure.explained if failure.message else failure.error}",
                file=sys.stderr,
            )
            if failure.error and args.verbose:
                print(failure.error, file=sys.stderr)
            if args.orchestrator == "local":
                log = PipelineLayout(document["pipeline"]["root"]).node_log(result.run_id, node_id)
                if os.path.exists(log):
                    print(f"headrace: its output: {log}", file=sys.stderr)
        print(
            f"headrace: details: headrace runs show {result.run_id} "
            f"--metadata {result.metadata_url}",
            file=sys.stderr,
        )
        return 1
    return 0


# Inspection --------------------------------------------------------------------------------------


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def _store(args: argparse.Namespace) -> Any:
    from headrace_core.errors import HeadraceError
    from headrace_core.metadata import (
        MetadataStore,
        default_metadata_url,
        sqlite_path,
        store_exists,
    )

    url = args.metadata or os.environ.get("HEADRACE_METADATA")
    if not url and args.pipeline_root:
        url = default_metadata_url(args.pipeline_root)
    if not url:
        raise HeadraceError(
            "say which metadata store to read: --metadata URL, --pipeline-root DIR or "
            "HEADRACE_METADATA"
        )
    if not store_exists(url):
        raise HeadraceError(f"no metadata store at {sqlite_path(url)}")
    return MetadataStore(url)


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> None:
    """Rows under a header line, columns as wide as their widest cell; ``empty`` alone when
    there are no rows."""
    if not rows:
        print(empty)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for line in [headers, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _when(ts: Any) -> str:
    return (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
        if isinstance(ts, (int, float))
        else "-"
    )


def _cmd_runs(args: argparse.Namespace) -> int:
    from headrace_core import history

    store = _store(args)
    if args.runs_command == "list":
        rows = history.run_list(store, args.pipeline, args.limit)
        if args.json:
            _print_json(rows)
            return 0
        _print_table(
            ("RUN", "PIPELINE", "STATUS", "STARTED", "EXECUTIONS"),
            [
                (
                    str(r["run_id"]),
                    str(r["pipeline"]),
                    str(r["status"]),
                    _when(r["started_at"]),
                    ", ".join(f"{v} {k}" for k, v in sorted(r["executions"].items())),
                )
                for r in rows
            ],
            empty="no runs",
        )
        return 0
    details = history.run_details(store, args.run_id, args.pipeline)
    if args.json:
        _print_json(details)
        return 0
    print(
        f"run {details['run_id']} of {details['pipeline']!r}: {details['status']}, "
        f"started {_when(details['started_at'])}"
    )
    width = max([len(r["node_id"]) for r in details["nodes"]] + [4])
    for r in details["nodes"]:
        took = f"{r['duration']:7.2f}s" if r.get("duration") is not None else ""
        line = f"  {r['node_id'].ljust(width)}  {r['status']:9} {took}"
        if r.get("execution_id"):
            line += f"  execution {r['execution_id']}"
        if r.get("outputs"):
            line += "  outputs " + ", ".join(f"{k}={v}" for k, v in sorted(r["outputs"].items()))
        if r.get("message"):
            line += f"  ({r['message']})"
        print(line)
        if r.get("error"):
            for err in str(r["error"]).strip().splitlines()[-6:]:
                print(f"      {err}")
    return 0


def _cmd_logs(args: argparse.Namespace) -> int:
    import json as json_mod

    from headrace_core import history
    from headrace_core.errors import HeadraceError
    from headrace_core.metadata import custom
    from headrace_core.runtime import PipelineLayout

    store = _store(args)
    ctx = history.find_run(store, args.run_id, args.pipeline)
    run_id = str(custom(ctx, "run_id"))
    root = args.pipeline_root or custom(ctx, "pipeline_root")
    if not root:
        raise HeadraceError(
            f"run {run_id} did not record its pipeline root (an older run): give --pipeline-root"
        )
    layout = PipelineLayout(root)
    nodes = json_mod.loads(custom(ctx, "nodes", "[]"))
    if args.node is not None and args.node not in nodes:
        raise HeadraceError(f"run {run_id} has no node {args.node!r}; nodes: {', '.join(nodes)}")
    logs = {n: layout.node_log(run_id, n) for n in ([args.node] if args.node else nodes)}
    found = {n: path for n, path in logs.items() if os.path.exists(path)}
    if args.json:
        texts = {}
        for n, path in found.items():
            with open(path, encoding="utf-8", errors="replace") as f:
                texts[n] = f.read()
        _print_json(texts)
        return 0
    if not found:
        where = layout.logs(run_id)
        raise HeadraceError(
            f"no node output captured for run {run_id} in {where}: its nodes were cached or "
            "skipped, or it ran on another orchestrator (whose own logs have the output)"
        )
    for node_id, path in found.items():
        if len(logs) > 1:
            print(f"==> {node_id} ({path}) <==")
        with open(path, encoding="utf-8", errors="replace") as f:
            sys.stdout.write(f.read())
    return 0


def _cmd_artifacts(args: argparse.Namespace) -> int:
    from headrace_core import history

    rows = history.artifact_list(_store(args), args.type, args.limit)
    if args.json:
        _print_json(rows)
        return 0
    table = []
    for r in rows:
        producer = r["producer"]
        made = f"{producer['node_id']} (run {producer['run_id']})" if producer else "-"
        table.append((str(r["id"]), str(r["type"]), str(r["state"]), made, str(r["uri"])))
    _print_table(("ID", "TYPE", "STATE", "PRODUCER", "URI"), table, empty="no artifacts")
    return 0


def _cmd_lineage(args: argparse.Namespace) -> int:
    from headrace_core import history

    direction = "downstream" if args.downstream else "upstream"
    graph = history.lineage(_store(args), args.artifact_id, direction)
    if args.json:
        _print_json(graph)
        return 0
    for line in _lineage_tree(graph, args.artifact_id):
        print(line)
    return 0


def _lineage_tree(graph: dict[str, Any], root: int) -> list[str]:
    """The lineage graph as an indented tree: each step under the artifact it was reached
    from (``via_artifact``), each artifact under its step. Steps are listed breadth first, so
    indenting by depth alone would leave a step under whichever artifact printed last."""
    arts = graph["artifacts"]
    upstream = graph["direction"] == "upstream"
    arrow = "<-" if upstream else "->"
    children: dict[int, list[dict[str, Any]]] = {}
    for step in graph["steps"]:
        children.setdefault(step["via_artifact"], []).append(step)
    lines: list[str] = []
    expanded: set[int] = set()

    def artifact(artifact_id: int, indent: int) -> None:
        a = arts[artifact_id]
        line = f"{' ' * indent}{a['type']} #{artifact_id} ({a['uri']})"
        # An artifact reached twice (an input of two steps) is traced once.
        if artifact_id in expanded and children.get(artifact_id):
            lines.append(f"{line} (traced above)")
            return
        lines.append(line)
        expanded.add(artifact_id)
        for step in children.get(artifact_id, []):
            lines.append(
                f"{' ' * (indent + 2)}{arrow} {step['node_id']} "
                f"(execution {step['execution_id']}, run {step['run_id']})"
            )
            for nxt in step["inputs"] if upstream else step["outputs"]:
                artifact(nxt, indent + 5)

    artifact(root, 0)
    return lines


def _cmd_diff(args: argparse.Namespace) -> int:
    from headrace_core import history

    result = history.diff_runs(_store(args), args.run_a, args.run_b, args.pipeline)
    if args.json:
        _print_json(result)
        return 0
    order = " (given newer run first; compared oldest to newest)" if result["swapped"] else ""
    print(f"{result['pipeline']}: {result['run_a']} -> {result['run_b']}{order}")
    for r in result["nodes"]:
        if r["reran"]:
            print(f"  {r['node_id']}: re-ran: {'; '.join(r['reasons'])}")
        elif r["status_b"] != r["status_a"]:
            print(f"  {r['node_id']}: {r['status_a']} -> {r['status_b']}")
        else:
            print(f"  {r['node_id']}: {r['status_b']}, unchanged")
        for key, change in r["changed_outputs"].items():
            print(f"      output {key!r}: {change['a']} -> {change['b']}")
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from headrace_core.errors import HeadraceError
    from headrace_core.runtime import Status, explain_node, pipeline_metadata_url

    document = _load_document(args)
    nodes = {n["id"]: n for n in document["nodes"]}
    if args.node not in nodes:
        raise HeadraceError(f"no node {args.node!r} in the pipeline; nodes: {', '.join(nodes)}")
    url = pipeline_metadata_url(document, args.metadata)
    explained = explain_node(document, url, args.node)
    prediction = explained.prediction
    if prediction is None:
        print(f"{args.node}: would run: nothing has run yet (no metadata store at {url})")
        return 0
    changes = explained.changes
    if args.json:
        _print_json(
            {
                "node_id": args.node,
                "prediction": prediction.status,
                "reason": prediction.reason,
                "cache_key": prediction.cache_key,
                "last_execution": explained.last_execution,
                "last_run": explained.last_run,
                "changes": changes,
            }
        )
        return 0
    if prediction.status == Status.CACHED:
        print(f"{args.node}: would be cached ({prediction.reason})")
    elif explained.last_execution is None:
        print(f"{args.node}: would run: no earlier successful execution ({prediction.reason})")
    elif prediction.parts is None:
        print(f"{args.node}: would run: {prediction.reason}")
    else:
        print(
            f"{args.node}: would run; since execution "
            f"{explained.last_execution} (run {explained.last_run}):"
        )
        for change in changes or [
            "nothing in the key changed, but its outputs are gone or cache is off"
        ]:
            print(f"  - {change}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from headrace_core.errors import HeadraceError
    from headrace_core.executor import import_ref
    from headrace_core.plugins import get_plugin_manager
    from headrace_core.show import ArtifactSummary, artifact_from_store, generic_summary

    store = _store(args)
    protos = store.artifacts([args.artifact_id])
    if not protos:
        raise HeadraceError(f"no artifact {args.artifact_id} in {store.url}")
    proto = protos[0]
    type_name = store.artifact_type_name(proto.type_id)
    artifact = artifact_from_store(store, proto)
    manager = get_plugin_manager()
    summary: ArtifactSummary
    if type_name in manager.viewers:
        ref = manager.viewers.get(type_name).viewer
        try:
            summary = import_ref(ref)(artifact)
        except Exception as e:
            raise HeadraceError(f"viewer {ref} for {type_name} failed: {e}") from e
    else:
        summary = generic_summary(artifact)
    if args.json:
        _print_json(
            {
                "artifact": artifact.to_json_dict(),
                "summary": summary.text,
                "html": summary.html_path,
                "data": summary.data,
            }
        )
        return 0
    print(summary.text)
    if summary.html_path:
        print(f"\nHTML view: {summary.html_path}")
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
    p.add_argument(
        "--target",
        default="ir",
        metavar="NAME",
        help="ir (default), or an installed orchestrator's format: airflow, kubeflow, ...",
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the target (see its docs), e.g. schedule=@daily",
    )
    p.add_argument("--pipeline-root", metavar="DIR", help="override the pipeline's root")
    p.set_defaults(handler=_cmd_compile)

    p = sub.add_parser("run", help="run a pipeline (on this machine unless --orchestrator)")
    p.add_argument("pipeline_file", metavar="PIPELINE_FILE")
    p.add_argument("--pipeline-root", metavar="DIR", help="override the pipeline's root")
    p.add_argument(
        "--orchestrator",
        default="local",
        metavar="NAME",
        help="local (default) or an installed one, e.g. beam (see headrace plugins)",
    )
    p.add_argument(
        "--orchestrator-arg",
        "--beam-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="passed to the orchestrator, e.g. --beam-arg=--runner=PortableRunner",
    )
    p.add_argument(
        "--metadata", metavar="URL", help="metadata store URL (default: SQLite in the root)"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the plan with predicted cache hits"
    )
    p.add_argument(
        "--from-nodes",
        action="append",
        metavar="NODE[,NODE]",
        help="run these and what depends on them",
    )
    p.add_argument(
        "--to-nodes",
        action="append",
        metavar="NODE[,NODE]",
        help="run these and what they depend on",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_ID",
        help="re-execute only what failed or never finished in this run",
    )
    p.add_argument(
        "--max-parallel", type=int, metavar="N", help="nodes run at once (default: cores)"
    )
    p.add_argument("--isolation", choices=("in-process", "subprocess"), default="in-process")
    p.add_argument(
        "--json", action="store_true", help="print the result as JSON instead of progress"
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="stream what nodes print (normally in their logs) and full tracebacks of failures",
    )
    p.set_defaults(handler=_cmd_run)

    def store_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--metadata", metavar="URL", help="metadata store URL (or HEADRACE_METADATA)"
        )
        p.add_argument("--pipeline-root", metavar="DIR", help="read the SQLite store in this root")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("runs", help="list runs or show one")
    runs = p.add_subparsers(dest="runs_command", metavar="list|show|logs")
    runs.required = True
    q = runs.add_parser("list", help="recent runs")
    store_options(q)
    q.add_argument("--pipeline", help="only this pipeline")
    q.add_argument("--limit", type=int, default=20)
    q.set_defaults(handler=_cmd_runs)
    q = runs.add_parser("show", help="one run, node by node, with errors")
    q.add_argument("run_id", metavar="RUN_ID")
    store_options(q)
    q.add_argument("--pipeline", help="pipeline name, if run ids are ambiguous")
    q.set_defaults(handler=_cmd_runs)
    q = runs.add_parser("logs", help="what a run's nodes printed (captured in their logs)")
    q.add_argument("run_id", metavar="RUN_ID")
    q.add_argument("node", metavar="NODE", nargs="?", help="only this node")
    store_options(q)
    q.add_argument("--pipeline", help="pipeline name, if run ids are ambiguous")
    q.set_defaults(handler=_cmd_logs)

    p = sub.add_parser("artifacts", help="list artifacts")
    p.add_argument("artifacts_command", choices=("list",), metavar="list")
    store_options(p)
    p.add_argument("--type", metavar="T", help="only artifacts of this type")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=_cmd_artifacts)

    p = sub.add_parser(
        "lineage", help="trace an artifact back to its inputs or forward to what used it"
    )
    p.add_argument("artifact_id", type=int, metavar="ARTIFACT_ID")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--upstream", action="store_true", help="where it came from (default)")
    direction.add_argument("--downstream", action="store_true", help="what was made from it")
    store_options(p)
    p.set_defaults(handler=_cmd_lineage)

    p = sub.add_parser("show", help="a readable summary of an artifact (statistics, schema, ...)")
    p.add_argument("artifact_id", type=int, metavar="ARTIFACT_ID")
    store_options(p)
    p.set_defaults(handler=_cmd_show)

    p = sub.add_parser("diff", help="which nodes re-ran between two runs, and why")
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    store_options(p)
    p.add_argument("--pipeline", help="pipeline name, if run ids are ambiguous")
    p.set_defaults(handler=_cmd_diff)

    p = sub.add_parser("cache", help="explain caching")
    cache = p.add_subparsers(dest="cache_command", metavar="why")
    cache.required = True
    q = cache.add_parser("why", help="would NODE be cached now, and if not, what changed")
    q.add_argument("pipeline_file", metavar="PIPELINE_FILE")
    q.add_argument("node", metavar="NODE")
    q.add_argument("--pipeline-root", metavar="DIR", help="override the pipeline's root")
    q.add_argument("--metadata", metavar="URL")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_cmd_cache)
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
