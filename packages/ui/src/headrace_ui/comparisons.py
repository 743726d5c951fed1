"""Two runs side by side (with ``headrace diff``'s reasons), two evaluations side by side per
slice, a pipeline's model history, and the training logs TensorBoard reads."""

from __future__ import annotations

from typing import Any

from headrace_core import history
from headrace_core.metadata import (
    EVENT_INPUT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    PIPELINE_CONTEXT,
    MetadataStore,
    custom,
    event_paths,
    get_value,
)
from headrace_ui.artifacts import viewer_summary

__all__ = [
    "MAX_MODELS",
    "compare_evaluations",
    "compare_runs",
    "model_history",
    "run_outputs_of_type",
    "tensorboard_logdirs",
]

#: The newest models the history page reads evaluations for.
MAX_MODELS = 100
_OUT = (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT)


def run_outputs_of_type(store: MetadataStore, ctx: Any, type_name: str) -> list[dict[str, Any]]:
    """Artifacts of ``type_name`` that a run's executions produced or reused, with the node."""
    executions = {e.id: e for e in store.executions_in_context(ctx.id)}
    events = [ev for ev in store.events(executions) if ev.type in _OUT]
    artifacts = {a.id: a for a in store.artifacts({ev.artifact_id for ev in events})}
    rows = []
    for ev in sorted(events, key=lambda ev: (ev.execution_id, ev.artifact_id)):
        a = artifacts.get(ev.artifact_id)
        if a is not None and store.artifact_type_name(a.type_id) == type_name:
            rows.append(
                {
                    "artifact": a,
                    "id": a.id,
                    "uri": a.uri,
                    "node_id": custom(executions[ev.execution_id], "node_id"),
                }
            )
    return rows


def _slices(store: MetadataStore, proto: Any) -> dict[str, dict[str, float]]:
    data = viewer_summary(store, proto)["data"] or {}
    return {
        str(s.get("slice")): {k: v for k, v in (s.get("metrics") or {}).items()}
        for s in data.get("slices") or []
    }


def compare_evaluations(store: MetadataStore, a: Any, b: Any) -> dict[str, Any]:
    """Two ModelEvaluation artifacts' metrics per slice: rows of (slice, metric, a, b)."""
    slices_a, slices_b = _slices(store, a), _slices(store, b)
    rows = []
    for name in sorted(set(slices_a) | set(slices_b), key=lambda s: (s != "Overall", s)):
        ma, mb = slices_a.get(name, {}), slices_b.get(name, {})
        for metric in sorted(set(ma) | set(mb)):
            va, vb = ma.get(metric), mb.get(metric)
            delta = (
                vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
            )
            rows.append({"slice": name, "metric": metric, "a": va, "b": vb, "delta": delta})
    return {"a": a.id, "b": b.id, "rows": rows}


def compare_runs(store: MetadataStore, ctx_a: Any, ctx_b: Any) -> dict[str, Any]:
    """``headrace diff`` of two runs, with their evaluations compared slice by slice."""
    diff = history.diff_run_contexts(store, ctx_a, ctx_b)
    if diff["swapped"]:
        ctx_a, ctx_b = ctx_b, ctx_a
    evals_a = run_outputs_of_type(store, ctx_a, "ModelEvaluation")
    evals_b = run_outputs_of_type(store, ctx_b, "ModelEvaluation")
    evaluations = []
    for ea, eb in zip(evals_a, evals_b, strict=False):
        evaluations.append(
            {"node_id": eb["node_id"], **compare_evaluations(store, ea["artifact"], eb["artifact"])}
        )
    return {**diff, "evaluations": evaluations}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def model_history(store: MetadataStore, pipeline: str) -> dict[str, Any] | None:
    """Every model a pipeline trained (newest :data:`MAX_MODELS`), each with the run that
    trained it, its warm-start base, its evaluation's overall metrics, its blessing and
    where it was pushed. Five queries by context and id, however long the history."""
    from ml_metadata.metadata_store import metadata_store

    pctx = store.get_context(PIPELINE_CONTEXT, pipeline)
    if pctx is None:
        return None
    options = metadata_store.ListOptions(
        limit=MAX_MODELS,
        order_by=metadata_store.OrderByField.ID,
        is_asc=False,
        filter_query="type = 'Model'",
    )
    models = list(store.call("get_artifacts_by_context", pctx.id, list_options=options))
    ids = [m.id for m in models]
    events = list(store.call("get_events_by_artifact_ids", ids)) if ids else []
    executions = {
        e.id: e
        for e in store.call("get_executions_by_id", sorted({ev.execution_id for ev in events}))
    }
    exec_events = store.events(executions)
    outputs = store.artifacts({ev.artifact_id for ev in exec_events if ev.type in _OUT} - set(ids))
    by_id = {a.id: a for a in outputs}
    typed = {a.id: store.artifact_type_name(a.type_id) for a in outputs}
    outs_of: dict[int, list[int]] = {}
    inputs_of: dict[int, dict[str, list[int]]] = {}
    for ev in exec_events:
        if ev.type in _OUT:
            outs_of.setdefault(ev.execution_id, []).append(ev.artifact_id)
        elif ev.type == EVENT_INPUT:
            for key, _ in event_paths(ev):
                inputs_of.setdefault(ev.execution_id, {}).setdefault(key, []).append(ev.artifact_id)
    rows = []
    for m in sorted(models, key=lambda m: m.id):
        row: dict[str, Any] = {
            "id": m.id,
            "uri": m.uri,
            "created_at": m.create_time_since_epoch / 1000.0,
            "run_id": None,
            "node_id": None,
            "base_model": None,
            "evaluation": None,
            "metrics": {},
            "blessed": None,
            "pushed": [],
        }
        for ev in events:
            if ev.artifact_id != m.id or ev.execution_id not in executions:
                continue
            e = executions[ev.execution_id]
            if ev.type == EVENT_OUTPUT:
                row["run_id"], row["node_id"] = custom(e, "run_id"), custom(e, "node_id")
                base = inputs_of.get(e.id, {}).get("base_model")
                row["base_model"] = base[0] if base else None
            elif ev.type == EVENT_INPUT and "model" in {k for k, _ in event_paths(ev)}:
                _consumer_outputs(store, row, [by_id[i] for i in outs_of.get(e.id, [])], typed)
        rows.append(row)
    metrics = sorted({k for r in rows for k in r["metrics"]})
    return {"pipeline": pipeline, "models": rows, "metrics": metrics, "limit": MAX_MODELS}


def _consumer_outputs(
    store: MetadataStore, row: dict[str, Any], outputs: list[Any], typed: dict[int, str]
) -> None:
    """What an execution that took the model as its ``model`` input made of it."""
    for a in outputs:
        kind = typed.get(a.id)
        props = {k: get_value(v) for k, v in a.custom_properties.items()}
        if kind == "ModelEvaluation" and row["evaluation"] is None:
            row["evaluation"] = a.id
            overall = _slices(store, a).get("Overall", {})
            row["metrics"] = {k: v for k, v in overall.items() if _number(v) is not None}
        elif kind == "ModelBlessing" and _number(props.get("current_model_id")) == row["id"]:
            row["blessed"] = bool(_number(props.get("blessed")))
            row["blessing"] = a.id
        elif kind == "PushedModel" and _number(props.get("pushed")):
            entry = {"id": a.id, "destination": props.get("pushed_destination")}
            if entry["destination"] not in [p["destination"] for p in row["pushed"]]:
                row["pushed"].append(entry)


def tensorboard_logdirs(store: MetadataStore, ctx: Any) -> list[tuple[str, str]]:
    """``(name, directory)`` of each training log (ModelRun) a run's trainers wrote or
    reused: what ``headrace tensorboard`` gives TensorBoard."""
    run_id = str(custom(ctx, "run_id"))
    return [
        (f"{run_id}/{r['node_id']}", r["uri"]) for r in run_outputs_of_type(store, ctx, "ModelRun")
    ]
