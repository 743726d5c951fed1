"""Plans: what a run would do now, node by node, from the same decision function a launch
uses; and ``cache why``'s explanation of one node."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.metadata import MetadataStore, custom, store_exists
from headrace_core.runtime._decide import decide
from headrace_core.runtime._inputs import Upstream
from headrace_core.runtime._resolvers import describe, find_imported, resolve
from headrace_core.runtime._session import RunSession
from headrace_core.runtime._types import LaunchError, Prediction, Status

__all__ = ["Explanation", "explain_node", "plan_nodes", "predict_node"]


def _history(session: RunSession, node_id: str) -> Upstream:
    status, execution = session.node_state(node_id)
    if status in Status.SUCCESS and execution is not None:
        return Upstream(status, session.outputs_of_execution(execution.id))
    return Upstream(None)


def predict_node(
    session: RunSession, node_id: str, predicted: Mapping[str, Prediction]
) -> Prediction:
    """What :func:`launch_node` would do now, given predictions for the upstream nodes (an
    upstream node without one contributes its latest outputs from history)."""
    node = session.nodes[node_id]
    upstream: dict[str, Upstream] = {}
    for producer in node.get("upstream", []):
        p = predicted.get(producer)
        if p is None:
            upstream[producer] = _history(session, producer)
        elif p.status == Status.SKIPPED:
            upstream[producer] = Upstream(Status.SKIPPED, {})
        elif p.status in (Status.FAILED, Status.NOT_RUN):
            verb = "would fail" if p.status == Status.FAILED else "would not run"
            return Prediction(node_id, Status.NOT_RUN, f"upstream {producer!r} {verb}")
        elif p.status == Status.UNKNOWN:
            upstream[producer] = Upstream(None)
        elif p.outputs is not None:
            upstream[producer] = Upstream(p.status, p.outputs)
        else:
            upstream[producer] = Upstream(Status.RUN, None, _history(session, producer).outputs)
    decision = decide(session, node, upstream)
    # decide() says "resolver" when the resolver itself would run now (its upstream known).
    if decision.status == Status.RUN and decision.reason == "resolver":
        try:
            outputs = resolve(session, node)
        except Exception as e:  # a launch records this failure
            return Prediction(node_id, Status.FAILED, f"{type(e).__name__}: {e}")
        return Prediction(node_id, Status.RUN, "resolver: " + describe(outputs), outputs=outputs)
    if decision.status == Status.RUN and decision.reason == "importer":
        try:
            existing = find_imported(session, node)
        except LaunchError as e:
            return Prediction(node_id, Status.FAILED, str(e))
        if existing is not None:
            reason = f"importer: reuses artifact {existing.id}"
            return Prediction(node_id, Status.RUN, reason, outputs={"result": [existing]})
    return Prediction(
        node_id,
        decision.status,
        decision.reason,
        decision.cache_key,
        decision.parts,
        decision.hit.id if decision.hit is not None else None,
        decision.hit_outputs,
    )


def plan_nodes(
    document: Mapping[str, Any],
    metadata_url: str,
    selected: Collection[str],
    *,
    resume: str | None = None,
) -> list[Prediction]:
    """Predictions for ``selected`` (in IR order), read from the store at ``metadata_url``;
    a store that does not exist yet is not created. With ``resume``, as that run resumed:
    what finished in it stays as it was."""
    with tempfile.TemporaryDirectory(prefix="headrace-plan-") as scratch:
        if not store_exists(metadata_url):
            metadata_url = "sqlite:///" + os.path.join(scratch, "empty.sqlite")
        session = RunSession.for_reading(document, MetadataStore(metadata_url), resume)
        predicted: dict[str, Prediction] = {}
        for node in document["nodes"]:
            node_id = node["id"]
            if node_id not in selected:
                continue
            finished = session.latest_in_run(node_id)
            status = custom(finished, "status") if finished is not None else None
            if finished is not None and status in Status.FINISHED:
                outputs = session.outputs_of_execution(finished.id)
                predicted[node_id] = Prediction(
                    node_id, Status(status), "finished before the resume", outputs=outputs
                )
            else:
                predicted[node_id] = predict_node(session, node_id, predicted)
    return [predicted[n["id"]] for n in document["nodes"] if n["id"] in selected]


@dataclass
class Explanation:
    """Would a node be cached now, and if not, what changed in its key since it last ran."""

    node_id: str
    prediction: Prediction | None  # None: nothing has run (no store)
    last_execution: int | None = None
    last_run: str | None = None
    changes: list[str] = field(default_factory=list)


def explain_node(document: Mapping[str, Any], metadata_url: str, node_id: str) -> Explanation:
    if not store_exists(metadata_url):
        return Explanation(node_id, None)
    session = RunSession.for_reading(document, MetadataStore(metadata_url))
    prediction = predict_node(session, node_id, {})
    last = session.last_keyed_execution(node_id)
    if last is None:
        return Explanation(node_id, prediction)
    changes: list[str] = []
    if prediction.parts is not None:
        changes = cache_mod.diff_parts(
            json.loads(custom(last, "cache_key_parts")), prediction.parts
        )
    return Explanation(node_id, prediction, last.id, custom(last, "run_id"), changes)
