"""Read-only questions about what ran: runs, artifacts, lineage, differences between runs.

Backs ``headrace runs``, ``artifacts``, ``lineage`` and ``diff``. Nothing here imports an
executor; answers are plain dicts, ready for ``--json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.errors import HeadraceError
from headrace_core.metadata import (
    EVENT_INPUT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    RUN_CONTEXT,
    MetadataStore,
    custom,
    event_paths,
    get_value,
    redact,
)

__all__ = [
    "artifact_list",
    "diff_run_contexts",
    "diff_runs",
    "find_run",
    "lineage",
    "run_context",
    "run_details",
    "run_list",
    "run_record",
]

_STATE_NAMES = {
    0: "UNKNOWN",
    1: "PENDING",
    2: "LIVE",
    3: "MARKED_FOR_DELETION",
    4: "DELETED",
    5: "ABANDONED",
    6: "REFERENCE",
}


def _ms_to_s(ms: int) -> float:
    return ms / 1000.0


def _run_contexts(store: MetadataStore, pipeline: str | None) -> list[Any]:
    contexts = [
        c
        for c in store.call("get_contexts_by_type", RUN_CONTEXT)
        if pipeline is None or custom(c, "pipeline") == pipeline
    ]
    return sorted(contexts, key=lambda c: c.id, reverse=True)


def find_run(store: MetadataStore, run_id: str, pipeline: str | None = None) -> Any:
    """The run context of ``run_id`` (a unique prefix is enough)."""
    matches = [
        c for c in _run_contexts(store, pipeline) if str(custom(c, "run_id", "")).startswith(run_id)
    ]
    exact = [c for c in matches if custom(c, "run_id") == run_id]
    if exact:
        matches = exact
    if not matches:
        raise HeadraceError(f"no run {run_id!r} in {redact(store.url)}")
    if len(matches) > 1:
        names = ", ".join(f"{custom(c, 'pipeline')}/{custom(c, 'run_id')}" for c in matches[:5])
        raise HeadraceError(f"run id {run_id!r} is ambiguous: {names}")
    return matches[0]


def run_context(store: MetadataStore, pipeline: str, run_id: str) -> Any | None:
    """The run context of ``pipeline``'s run ``run_id`` (exact), by its unique name: one
    indexed lookup however many runs the store holds."""
    from headrace_core.metadata import run_context_name

    return store.get_context(RUN_CONTEXT, run_context_name(pipeline, run_id))


def _execution_row(e: Any) -> dict[str, Any]:
    return {
        "execution_id": e.id,
        "node_id": custom(e, "node_id"),
        "status": custom(e, "status"),
        "duration": round(_ms_to_s(e.last_update_time_since_epoch - e.create_time_since_epoch), 3),
        "started_at": _ms_to_s(e.create_time_since_epoch),
        "error": custom(e, "error"),
        "message": custom(e, "reason")
        or (
            f"outputs of execution {custom(e, 'cached_from')}" if custom(e, "cached_from") else None
        ),
    }


def run_list(
    store: MetadataStore, pipeline: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    rows = []
    for ctx in _run_contexts(store, pipeline)[:limit]:
        executions = store.executions_in_context(ctx.id)
        counts: dict[str, int] = {}
        for e in executions:
            status = str(custom(e, "status"))
            counts[status] = counts.get(status, 0) + 1
        rows.append(
            {
                "pipeline": custom(ctx, "pipeline"),
                "run_id": custom(ctx, "run_id"),
                "status": custom(ctx, "status", "running or interrupted"),
                "started_at": custom(ctx, "started_at"),
                "finished_at": custom(ctx, "finished_at"),
                "orchestrator": custom(ctx, "orchestrator"),
                "executions": counts,
            }
        )
    return rows


def run_details(store: MetadataStore, run_id: str, pipeline: str | None = None) -> dict[str, Any]:
    return run_record(store, find_run(store, run_id, pipeline))


def run_record(store: MetadataStore, ctx: Any) -> dict[str, Any]:
    """:func:`run_details` of a run context already found (:func:`run_context`)."""
    executions = sorted(store.executions_in_context(ctx.id), key=lambda e: e.id)
    events = store.events(e.id for e in executions)
    outputs: dict[int, dict[str, list[int]]] = {}
    for ev in events:
        if ev.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT):
            for key, _ in event_paths(ev):
                outputs.setdefault(ev.execution_id, {}).setdefault(key, []).append(ev.artifact_id)
    latest: dict[str, Any] = {}
    for e in executions:
        latest[str(custom(e, "node_id"))] = e
    nodes = json.loads(custom(ctx, "nodes", "[]"))
    rows = []
    for node_id in nodes or list(latest):
        e = latest.get(node_id)
        if e is None:
            rows.append({"node_id": node_id, "status": "not run", "execution_id": None})
            continue
        row = _execution_row(e)
        row["outputs"] = outputs.get(e.id, {})
        row["attempts"] = sum(1 for x in executions if custom(x, "node_id") == node_id)
        rows.append(row)
    return {
        "pipeline": custom(ctx, "pipeline"),
        "run_id": custom(ctx, "run_id"),
        "status": custom(ctx, "status", "running or interrupted"),
        "started_at": custom(ctx, "started_at"),
        "finished_at": custom(ctx, "finished_at"),
        "reused_nodes": json.loads(custom(ctx, "reused_nodes", "[]")),
        "nodes": rows,
    }


def _artifact_row(store: MetadataStore, a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "type": store.artifact_type_name(a.type_id),
        "uri": a.uri,
        "state": _STATE_NAMES.get(a.state, str(a.state)),
        "properties": {k: get_value(v) for k, v in sorted(a.properties.items())},
        "custom_properties": {k: get_value(v) for k, v in sorted(a.custom_properties.items())},
    }


def _producers(store: MetadataStore, artifact_ids: Iterable[int]) -> dict[int, Any]:
    """Artifact id -> the execution that produced it (OUTPUT event)."""
    ids = list(artifact_ids)
    if not ids:
        return {}
    events = [e for e in store.call("get_events_by_artifact_ids", ids) if e.type == EVENT_OUTPUT]
    executions = {
        x.id: x for x in store.call("get_executions_by_id", {e.execution_id for e in events})
    }
    return {
        e.artifact_id: executions[e.execution_id] for e in events if e.execution_id in executions
    }


def artifact_list(
    store: MetadataStore, type_name: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    from ml_metadata.metadata_store import metadata_store

    if type_name:
        known = sorted(t.name for t in store.call("get_artifact_types"))
        if type_name not in known:
            # A misspelt type would otherwise read as "no artifacts" of a real one.
            raise HeadraceError(
                f"no artifact type {type_name!r} in {redact(store.url)}; "
                f"types there: {', '.join(known) or 'none'}"
            )
    options = metadata_store.ListOptions(
        limit=limit,
        order_by=metadata_store.OrderByField.ID,
        is_asc=False,
        filter_query=f"type = '{type_name}'" if type_name else None,
    )
    artifacts = list(store.call("get_artifacts", list_options=options))
    producers = _producers(store, [a.id for a in artifacts])
    rows = []
    for a in artifacts:
        row = _artifact_row(store, a)
        producer = producers.get(a.id)
        row["producer"] = (
            {
                "node_id": custom(producer, "node_id"),
                "run_id": custom(producer, "run_id"),
                "execution_id": producer.id,
            }
            if producer is not None
            else None
        )
        rows.append(row)
    return rows


def lineage(
    store: MetadataStore, artifact_id: int, direction: str = "upstream", max_depth: int = 100
) -> dict[str, Any]:
    """Executions and artifacts reachable from ``artifact_id``, across runs.

    Upstream follows each artifact to the execution that produced it and on to that
    execution's inputs; downstream follows consumers (COMPLETE executions) to what they
    produced.
    """
    if direction not in ("upstream", "downstream"):
        raise HeadraceError("direction must be upstream or downstream")
    [root] = store.artifacts([artifact_id]) or [None]
    if root is None:
        raise HeadraceError(f"no artifact {artifact_id} in {redact(store.url)}")
    artifacts: dict[int, Any] = {root.id: root}
    steps: list[dict[str, Any]] = []
    seen_executions: set[int] = set()
    frontier = [(root.id, 0)]
    while frontier:
        current, depth = frontier.pop(0)
        if depth >= max_depth:
            continue
        events = store.call("get_events_by_artifact_ids", [current])
        if direction == "upstream":
            exec_ids = [e.execution_id for e in events if e.type == EVENT_OUTPUT]
        else:
            exec_ids = [e.execution_id for e in events if e.type == EVENT_INPUT]
        executions = [
            x for x in store.call("get_executions_by_id", exec_ids) if x.id not in seen_executions
        ]
        for execution in sorted(executions, key=lambda x: x.id):
            if direction == "downstream" and custom(execution, "status") != "complete":
                continue
            seen_executions.add(execution.id)
            exec_events = store.events([execution.id])
            ins = sorted({e.artifact_id for e in exec_events if e.type == EVENT_INPUT})
            outs = sorted(
                {
                    e.artifact_id
                    for e in exec_events
                    if e.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT)
                }
            )
            for a in store.artifacts(set(ins + outs) - set(artifacts)):
                artifacts[a.id] = a
            steps.append(
                {
                    "depth": depth + 1,
                    "via_artifact": current,
                    "execution_id": execution.id,
                    "node_id": custom(execution, "node_id"),
                    "run_id": custom(execution, "run_id"),
                    "status": custom(execution, "status"),
                    "inputs": ins,
                    "outputs": outs,
                }
            )
            nxt = ins if direction == "upstream" else outs
            frontier.extend((a, depth + 1) for a in nxt)
    return {
        "artifact": _artifact_row(store, root),
        "direction": direction,
        "steps": steps,
        "artifacts": {a.id: _artifact_row(store, a) for a in artifacts.values()},
    }


def _started(ctx: Any) -> tuple[float, int]:
    return (float(custom(ctx, "started_at", 0) or 0), ctx.id)


def _same_key_reason(store: MetadataStore, before: Any, run_a: str, run_b: str) -> str:
    """Why a node whose cache key did not change executed again rather than being cached."""
    status = custom(before, "status")
    if status not in ("complete", "cached"):
        return f"cache key unchanged; it was {status} in run {run_a}, with no outputs to reuse"
    ids = {
        e.artifact_id
        for e in store.events([before.id])
        if e.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT)
    }
    gone = [
        f"artifact {a.id} {_STATE_NAMES.get(a.state, str(a.state))}"
        if _STATE_NAMES.get(a.state) != "LIVE"
        else f"artifact {a.id} missing at {a.uri}"
        for a in store.artifacts(ids)
        if _STATE_NAMES.get(a.state) != "LIVE" or ("://" not in a.uri and not os.path.exists(a.uri))
    ]
    if gone:
        return (
            f"cache key unchanged; the outputs it had in run {run_a} are no longer there "
            f"({', '.join(gone)}), so it ran again"
        )
    return (
        f"cache key unchanged and the outputs from run {run_a} are still there: caching was "
        f"off for it in run {run_b}, or those outputs were unusable when run {run_b} looked"
    )


def diff_runs(
    store: MetadataStore, run_a: str, run_b: str, pipeline: str | None = None
) -> dict[str, Any]:
    """Which nodes re-ran in the newer of two runs and why, against the older; which outputs
    differ.

    Only the later run can have re-run a node, so the runs are compared oldest to newest
    whichever order they are given in; ``swapped`` says they were given newest first.
    """
    return diff_run_contexts(
        store, find_run(store, run_a, pipeline), find_run(store, run_b, pipeline)
    )


def diff_run_contexts(store: MetadataStore, ctx_a: Any, ctx_b: Any) -> dict[str, Any]:
    """:func:`diff_runs` of two run contexts already found (:func:`run_context`)."""
    swapped = _started(ctx_a) > _started(ctx_b)
    if swapped:
        ctx_a, ctx_b = ctx_b, ctx_a
    a = run_record(store, ctx_a)
    b = run_record(store, ctx_b)
    ex_a = {
        str(custom(e, "node_id")): e
        for e in sorted(store.executions_in_context(ctx_a.id), key=lambda e: e.id)
    }
    ex_b = {
        str(custom(e, "node_id")): e
        for e in sorted(store.executions_in_context(ctx_b.id), key=lambda e: e.id)
    }
    rows_a = {r["node_id"]: r for r in a["nodes"]}
    rows: list[dict[str, Any]] = []
    for row in b["nodes"]:
        node_id = row["node_id"]
        before = rows_a.get(node_id, {"status": "absent", "outputs": {}})
        e_a, e_b = ex_a.get(node_id), ex_b.get(node_id)
        reran = (
            row["status"] == "complete"
            and e_b is not None
            and custom(e_b, "cache_key_parts") is not None
        )
        reasons: list[str] = []
        if e_a is not None and e_b is not None:
            parts_a = custom(e_a, "cache_key_parts")
            parts_b = custom(e_b, "cache_key_parts")
            if parts_a and parts_b:
                reasons = cache_mod.diff_parts(json.loads(parts_a), json.loads(parts_b))
                if not reasons and reran:
                    reasons = [_same_key_reason(store, e_a, a["run_id"], b["run_id"])]
            elif reran:
                reasons = [f"no cache key recorded in run {a['run_id']} to compare with"]
        elif e_a is None:
            reasons = [f"not in run {a['run_id']}"]
        outs_a, outs_b = before.get("outputs") or {}, row.get("outputs") or {}
        changed = {
            k: {"a": outs_a.get(k, []), "b": outs_b.get(k, [])}
            for k in sorted(set(outs_a) | set(outs_b))
            if outs_a.get(k, []) != outs_b.get(k, [])
        }
        rows.append(
            {
                "node_id": node_id,
                "status_a": before["status"],
                "status_b": row["status"],
                "reran": reran,
                "reasons": reasons,
                "changed_outputs": changed,
            }
        )
    return {
        "run_a": a["run_id"],
        "run_b": b["run_id"],
        "swapped": swapped,
        "pipeline": b["pipeline"],
        "nodes": rows,
    }
