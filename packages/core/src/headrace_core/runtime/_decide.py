"""The decision function: what launching a node would do now.

A launch and a plan (``--dry-run``, ``cache why``) call :func:`decide` alike, so a
prediction cannot drift from what a run then does. A launch passes its upstream nodes'
recorded outputs; a plan passes what it predicted for them, where a node that runs first has
unknown outputs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.artifacts import ArtifactState
from headrace_core.driver import DriverContext, DriverOutput
from headrace_core.executor import import_ref
from headrace_core.runtime._inputs import (
    Outputs,
    Upstream,
    check_conditions,
    inputs_from,
    is_local,
    key_inputs,
    resolve_dynamic_parameters,
)
from headrace_core.runtime._records import STATE
from headrace_core.runtime._session import RunSession
from headrace_core.runtime._types import LaunchError, Status

__all__ = ["Decision", "cache_enabled", "decide", "lookup_cache"]


@dataclass
class Decision:
    """``status``: SKIPPED, CACHED, RUN (execute it), FAILED (record a failure without
    running: a missing input, a failing driver) or UNKNOWN (a plan that cannot tell)."""

    status: Status
    reason: str = ""
    inputs: Outputs = field(default_factory=dict)
    driven: DriverOutput = field(default_factory=DriverOutput)
    cache_key: str | None = None
    parts: dict[str, Any] | None = None
    hit: Any | None = None  # the execution whose outputs a cache hit reuses
    hit_outputs: Outputs | None = None
    attempts: list[Any] = field(default_factory=list)  # the key's executions, newest first
    #: The node as it launches: its dynamic parameters read from upstream artifacts.
    node: Mapping[str, Any] | None = None


def cache_enabled(session: RunSession, node: Mapping[str, Any]) -> bool:
    override = node.get("enable_cache")
    if override is not None:
        return bool(override)
    return bool(session.ir["pipeline"].get("enable_cache", True))


def run_driver(session: RunSession, node: Mapping[str, Any], inputs: Outputs) -> DriverOutput:
    ref = node.get("driver")
    if not ref:
        return DriverOutput()
    driver = import_ref(ref, source_file=node.get("source_file"))
    result = driver(
        DriverContext(
            pipeline_name=session.pipeline_name,
            pipeline_root=session.pipeline_root,
            run_id=session.run_id,
            node_id=node["id"],
            exec_properties=dict(node.get("parameters", {})),
            inputs=inputs,
        )
    )
    if not isinstance(result, DriverOutput):
        raise TypeError(f"driver {ref} returned {type(result).__name__}, not a DriverOutput")
    return result


def _usable(node: Mapping[str, Any], outputs: Outputs) -> bool:
    """Every required output is there, LIVE and, when local, still on disk."""
    for key, declared in node.get("outputs", {}).items():
        artifacts = outputs.get(key, [])
        if not artifacts and not declared.get("optional", False):
            return False
        for artifact in artifacts:
            if artifact.state is not ArtifactState.LIVE:
                return False
            if is_local(artifact.uri) and not os.path.exists(artifact.uri):
                return False
    return True


def lookup_cache(
    session: RunSession, node: Mapping[str, Any], key: str, attempts: list[Any] | None = None
) -> tuple[Any, Outputs] | None:
    """The newest COMPLETE execution under ``key`` whose outputs are still usable, with them;
    among ``attempts`` (the key's executions, newest first) when the caller has read them."""
    if attempts is None:
        attempts = session.attempts(key)
    for execution in attempts:
        if execution.last_known_state != STATE["COMPLETE"]:
            continue
        outputs = session.outputs_of_execution(execution.id)
        if _usable(node, outputs):
            return execution, outputs
    return None


def decide(
    session: RunSession, node: Mapping[str, Any], upstream: Mapping[str, Upstream]
) -> Decision:
    """What launching ``node`` would do, given what is known of its upstream nodes."""
    for producer in node.get("upstream", []):
        state = upstream.get(producer)
        if state is None or state.status is None:
            return Decision(Status.UNKNOWN, f"upstream {producer!r} has no outputs yet")
        if state.status == Status.SKIPPED:
            return Decision(Status.SKIPPED, f"upstream node {producer!r} was skipped")
    # Conditions are judged on what is known. Only a plan has producers that run first: their
    # latest outputs stand in, and a condition on one that never ran is not judged (the node
    # is predicted to run).
    seen: dict[str, Outputs] = {}
    for producer, state in upstream.items():
        outputs = state.outputs if state.outputs is not None else state.previous
        if outputs is not None:
            seen[producer] = outputs
    judged = [c for c in node.get("conditions", []) if c["producer"] in seen]
    reason = check_conditions(judged, seen)
    if reason is not None:
        return Decision(Status.SKIPPED, reason)
    refs = [*node.get("inputs", {}).values(), *node.get("dynamic_parameters", {}).values()]
    for ref in refs:
        producer = ref.get("producer")
        if producer is not None and upstream[producer].outputs is None:
            # New artifacts mean new ids in the key: a consumer of a re-run node re-runs.
            return Decision(Status.RUN, f"upstream {producer!r} runs first")
    if node["kind"] in ("resolver", "importer"):
        return Decision(Status.RUN, node["kind"])
    known = {p: u.outputs or {} for p, u in upstream.items()}
    try:
        node = resolve_dynamic_parameters(node, known)
        inputs = inputs_from(node, known)
    except LaunchError as e:
        return Decision(Status.FAILED, str(e))
    try:
        driven = run_driver(session, node, inputs)
    except Exception as e:
        return Decision(Status.FAILED, f"{type(e).__name__}: {e}", inputs)
    parts = cache_mod.cache_key_parts(
        session.pipeline_name, node, key_inputs(node, inputs), driven.cache_key
    )
    key = cache_mod.cache_key(parts)
    decision = Decision(Status.RUN, "", inputs, driven, key, parts, node=node)
    if not cache_enabled(session, node):
        decision.reason = "cache disabled"
        return decision
    decision.attempts = session.attempts(key)
    hit = lookup_cache(session, node, key, decision.attempts)
    if hit is None:
        decision.reason = "no cached execution with this key"
        return decision
    decision.status = Status.CACHED
    decision.hit, decision.hit_outputs = hit
    decision.reason = f"outputs of execution {hit[0].id}"
    return decision
