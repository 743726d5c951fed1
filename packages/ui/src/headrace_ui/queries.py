"""What the pipeline, run and node pages show, read by context and id.

Every function here asks ML Metadata for one pipeline's contexts, one run's executions or a
handful of artifacts by id, never for everything in the store: a page costs the same with ten
runs recorded as with thousands. Run details, statuses and the cache-key parts come from
headrace-core's own readers (:mod:`headrace_core.history`), so the pages say what
``headrace runs show`` says.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from headrace_core import history
from headrace_core.metadata import (
    EVENT_INPUT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    PIPELINE_CONTEXT,
    RUN_CONTEXT,
    MetadataStore,
    custom,
    event_paths,
)
from headrace_core.runtime import PipelineLayout, user_frame_in_text

__all__ = [
    "PAGE_SIZE",
    "execution_link",
    "node_detail",
    "pipelines",
    "run_context",
    "run_graph",
    "run_statuses",
    "runs_page",
]

PAGE_SIZE = 25
#: Names safe to put into an MLMD filter query between quotes.
_SAFE = re.compile(r"^[\w.:\- ]+$")
#: Run statuses as the run context records them; an unfinished run has none.
RUN_STATUSES = ("succeeded", "failed")
#: The node statuses counted on the runs page.
COUNTED = ("complete", "cached", "failed", "skipped", "running", "abandoned")


def _options(limit: int | None = None, filter_query: str | None = None) -> Any:
    from ml_metadata.metadata_store import metadata_store

    return metadata_store.ListOptions(
        limit=limit,
        order_by=metadata_store.OrderByField.ID,
        is_asc=False,
        filter_query=filter_query,
    )


def _quoted(value: str) -> str:
    if not _SAFE.match(value):
        raise ValueError(f"{value!r} cannot be used in a metadata query")
    return f"'{value}'"


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def pipelines(store: MetadataStore) -> list[dict[str, Any]]:
    """Every pipeline with its latest run: one query for the pipelines (there are few), one
    per pipeline for its newest run context."""
    rows = []
    for ctx in sorted(store.call("get_contexts_by_type", PIPELINE_CONTEXT), key=lambda c: c.name):
        latest = _run_contexts(store, ctx.name, limit=1)
        rows.append(
            {"name": ctx.name, "latest": _run_summary(store, latest[0]) if latest else None}
        )
    return rows


def _run_contexts(
    store: MetadataStore,
    pipeline: str,
    *,
    limit: int,
    status: str | None = None,
    before: int | None = None,
) -> list[Any]:
    """Newest first: ``pipeline``'s run contexts (with ``status``; older than the context
    id ``before``), through MLMD's filtered, limited listing."""
    terms = [f"type = '{RUN_CONTEXT}'"]
    try:
        terms.append(f"custom_properties.pipeline.string_value = {_quoted(pipeline)}")
        if status is not None:
            terms.append(f"custom_properties.status.string_value = {_quoted(status)}")
    except ValueError:
        return []  # no run of a pipeline can have such a name: contexts are named by it
    if before is not None:
        terms.append(f"id < {int(before)}")
    return list(store.call("get_contexts", list_options=_options(limit, " AND ".join(terms))))


def _run_summary(store: MetadataStore, ctx: Any) -> dict[str, Any]:
    counts = dict.fromkeys(COUNTED, 0)
    for e in store.executions_in_context(ctx.id):
        status = str(custom(e, "status"))
        counts[status] = counts.get(status, 0) + 1
    started = _num(custom(ctx, "started_at"))
    finished = _num(custom(ctx, "finished_at"))
    return {
        "context_id": ctx.id,
        "pipeline": custom(ctx, "pipeline"),
        "run_id": custom(ctx, "run_id"),
        "status": custom(ctx, "status") or "running",
        "started_at": started,
        "finished_at": finished,
        "duration": (finished - started) if started and finished else None,
        "orchestrator": custom(ctx, "orchestrator"),
        "nodes": len(json.loads(custom(ctx, "nodes", "[]") or "[]")),
        "counts": counts,
    }


def runs_page(
    store: MetadataStore,
    pipeline: str,
    *,
    status: str | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> dict[str, Any]:
    """One page of a pipeline's runs, newest first; ``next`` is the ``before`` of the next
    page (keyset pagination: the cost of page 40 is the cost of page 1)."""
    if status not in (None, *RUN_STATUSES):
        status = None
    contexts = _run_contexts(store, pipeline, limit=limit + 1, status=status, before=before)
    page = contexts[:limit]
    return {
        "pipeline": pipeline,
        "status": status,
        "runs": [_run_summary(store, c) for c in page],
        "next": page[-1].id if len(contexts) > limit else None,
    }


def run_context(store: MetadataStore, pipeline: str, run_id: str) -> Any | None:
    return history.run_context(store, pipeline, run_id)


def _ir_nodes(ctx: Any) -> dict[str, dict[str, Any]] | None:
    """The nodes of the IR the run wrote for its node processes, if it kept one."""
    root = custom(ctx, "pipeline_root")
    if not root:
        return None
    path = PipelineLayout(str(root)).run_ir(str(custom(ctx, "run_id")))
    try:
        with open(path, encoding="utf-8") as f:
            return {n["id"]: n for n in json.load(f)["nodes"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _edges(store: MetadataStore, ctx: Any, nodes: list[str]) -> list[tuple[str, str]]:
    """Producer -> consumer node pairs: from the run's IR where it was kept, else from the
    run's own events (an input linked to the node that produced or reused it in this run)."""
    ir = _ir_nodes(ctx)
    if ir is not None:
        return sorted(
            {(u, n) for n in nodes for u in ir.get(n, {}).get("upstream", []) if u in nodes}
        )
    executions = store.executions_in_context(ctx.id)
    node_of = {e.id: str(custom(e, "node_id")) for e in executions}
    events = store.events(node_of)
    # One artifact may come from several nodes of a run (a model the Trainer's cache hit
    # reused and a resolver picked as the baseline): an edge from each.
    made_by: dict[int, set[str]] = {}
    for ev in events:
        if ev.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT):
            made_by.setdefault(ev.artifact_id, set()).add(node_of[ev.execution_id])
    pairs = set()
    for ev in events:
        if ev.type == EVENT_INPUT:
            consumer = node_of[ev.execution_id]
            pairs.update((p, consumer) for p in made_by.get(ev.artifact_id, ()) if p != consumer)
    return sorted(pairs)


def run_graph(store: MetadataStore, ctx: Any) -> dict[str, Any]:
    """The run and its DAG: each node with its latest execution's status and message."""
    record = history.run_record(store, ctx)
    summary = _run_summary(store, ctx)
    node_ids = [r["node_id"] for r in record["nodes"]]
    return {
        **summary,
        "reused_nodes": record["reused_nodes"],
        "nodes": [_node_row(r) for r in record["nodes"]],
        "edges": [{"source": a, "target": b} for a, b in _edges(store, ctx, node_ids)],
    }


def _node_row(r: dict[str, Any]) -> dict[str, Any]:
    status = str(r.get("status") or "not run")
    return {
        "id": r["node_id"],
        "status": status.replace(" ", "-"),
        "execution_id": r.get("execution_id"),
        "duration": r.get("duration"),
        "message": r.get("message"),
        "attempts": r.get("attempts"),
    }


def run_statuses(store: MetadataStore, ctx_id: int, nodes: list[str]) -> dict[str, Any]:
    """What the live run page polls: each node's latest status, and whether the run is
    over. Two queries: the run context by id and its executions."""
    [ctx] = store.call("get_contexts_by_id", [ctx_id]) or [None]
    latest: dict[str, Any] = {}
    for e in store.executions_in_context(ctx_id, newest_first=False):
        latest[str(custom(e, "node_id"))] = e
    rows = {}
    for node_id in nodes:
        e = latest.get(node_id)
        rows[node_id] = {
            "status": str(custom(e, "status")) if e is not None else "not-run",
            "execution_id": e.id if e is not None else None,
        }
    return {
        "run_status": (custom(ctx, "status") if ctx is not None else None) or "running",
        "nodes": rows,
    }


def execution_link(store: MetadataStore, execution_id: int) -> dict[str, Any] | None:
    """Which run and node an execution belongs to (for "cached from execution N")."""
    found = store.call("get_executions_by_id", [execution_id])
    if not found:
        return None
    e = found[0]
    return {
        "execution_id": e.id,
        "pipeline": custom(e, "pipeline"),
        "run_id": custom(e, "run_id"),
        "node_id": custom(e, "node_id"),
        "status": custom(e, "status"),
    }


def _log_tail(path: str, limit: int = 64 * 1024) -> tuple[str | None, bool]:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if size > limit:
                f.seek(size - limit)
            return f.read().decode("utf-8", errors="replace"), size > limit
    except OSError:
        return None, False


def node_detail(store: MetadataStore, ctx: Any, node_id: str) -> dict[str, Any] | None:
    """A node of a run: its latest execution's parameters, inputs, outputs, cache-key parts,
    timing, error (with the user's file and line) and log."""
    run_id = str(custom(ctx, "run_id"))
    nodes = json.loads(custom(ctx, "nodes", "[]") or "[]")
    executions = [
        e for e in store.executions_in_context(ctx.id) if str(custom(e, "node_id")) == node_id
    ]
    if node_id not in nodes and not executions:
        return None
    detail: dict[str, Any] = {
        "id": node_id,
        "run_id": run_id,
        "pipeline": custom(ctx, "pipeline"),
        "status": "not-run",
        "attempts": [e.id for e in sorted(executions, key=lambda e: e.id)],
        "inputs": {},
        "outputs": {},
        "parameters": {},
        "cache_key_parts": None,
        "log": None,
        "tensorboard": [],
        "error_at": [],
    }
    root = custom(ctx, "pipeline_root")
    # Names from the store become a path: one that could leave the logs folder is not read.
    if root and not {run_id, node_id} & {"", ".", ".."} and "/" not in run_id + node_id:
        detail["log_path"] = PipelineLayout(str(root)).node_log(run_id, node_id)
        detail["log"], detail["log_truncated"] = _log_tail(detail["log_path"])
    if not executions:
        return detail
    e = max(executions, key=lambda x: x.id)
    parts_text = custom(e, "cache_key_parts")
    parts = json.loads(parts_text) if parts_text else None
    error = custom(e, "error")
    where = user_frame_in_text(str(error or ""))
    detail.update(
        status=str(custom(e, "status")),
        execution_id=e.id,
        started_at=e.create_time_since_epoch / 1000.0,
        duration=(e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000.0,
        error=error,
        error_at=([{"file": where[0], "line": where[1], "function": where[2]}] if where else []),
        reason=custom(e, "reason"),
        cached_from=custom(e, "cached_from"),
        cache_key=custom(e, "cache_key"),
        cache_key_parts=parts,
        parameters=(parts or {}).get("parameters") or {},
        host=custom(e, "host"),
        resolved=custom(e, "resolved"),
    )
    events = store.events([e.id])
    artifacts = {a.id: a for a in store.artifacts({ev.artifact_id for ev in events})}
    for ev in events:
        side = "inputs" if ev.type == EVENT_INPUT else "outputs"
        a = artifacts.get(ev.artifact_id)
        if a is None:
            continue
        for key, _ in event_paths(ev):
            detail[side].setdefault(key, []).append(
                {"id": a.id, "type": store.artifact_type_name(a.type_id), "uri": a.uri}
            )
    detail["tensorboard"] = [
        a["uri"] for arts in detail["outputs"].values() for a in arts if a["type"] == "ModelRun"
    ]
    return detail
