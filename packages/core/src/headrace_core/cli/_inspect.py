"""The inspection commands: ``runs``, ``artifacts``, ``lineage``, ``diff``, ``cache why`` and
``show``; each reads ML Metadata only and takes ``--json``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from headrace_core.cli._common import _load_document, _print_json, _print_table, _store, _when


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
    if args.node is None:
        # What was printed while no node ran (start-up, the runner itself).
        logs["(run)"] = layout.run_log(run_id)
    found = {n: path for n, path in logs.items() if os.path.exists(path) and os.path.getsize(path)}
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
    from headrace_core.metadata import redact
    from headrace_core.runtime import Status, explain_node, pipeline_metadata_url

    document = _load_document(args)
    nodes = {n["id"]: n for n in document["nodes"]}
    if args.node not in nodes:
        raise HeadraceError(f"no node {args.node!r} in the pipeline; nodes: {', '.join(nodes)}")
    url = pipeline_metadata_url(document, args.metadata)
    explained = explain_node(document, url, args.node)
    prediction = explained.prediction
    if prediction is None:
        print(f"{args.node}: would run: nothing has run yet (no metadata store at {redact(url)})")
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
    from headrace_core.metadata import redact
    from headrace_core.show import summarize

    store = _store(args)
    protos = store.artifacts([args.artifact_id])
    if not protos:
        raise HeadraceError(f"no artifact {args.artifact_id} in {redact(store.url)}")
    artifact, summary = summarize(store, protos[0])
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
