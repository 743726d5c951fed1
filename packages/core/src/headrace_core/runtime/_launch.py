"""Launching one node of one pipeline run: decide, then skip, link a cache hit, resolve,
import, or execute and publish; every outcome recorded in ML Metadata.

A runner killed mid-node leaves a RUNNING execution behind with no LIVE outputs; the next
launch of that node records it as abandoned and removes what it staged.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.executor import ExecutorContext, load_executor_class
from headrace_core.metadata import custom
from headrace_core.runtime._decide import Decision, decide
from headrace_core.runtime._inputs import Outputs, upstream_in_run
from headrace_core.runtime._logs import node_scope, user_frame
from headrace_core.runtime._publish import (
    check_outputs,
    discard_staging,
    publish,
    reap_orphans,
    remove_marker,
    stage_outputs,
    write_marker,
)
from headrace_core.runtime._records import truncate_error
from headrace_core.runtime._resolvers import describe, find_imported, new_import, resolve
from headrace_core.runtime._session import RunSession
from headrace_core.runtime._types import LaunchError, NodeResult, Status

__all__ = ["apply_environment", "exec_properties", "launch_node"]


def apply_environment(nodes: Iterable[Mapping[str, Any]]) -> None:
    """Set the variables the nodes' executors need, unless the user already set them.

    Done once per process before any executor is imported: some libraries read their
    variables only on first import (tf.keras picks Keras 2 or 3 that way).
    """
    for node in nodes:
        for key, value in (node.get("environment") or {}).items():
            os.environ.setdefault(key, value)


def exec_properties(node: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as executors receive them: protobuf messages as JSON strings, as in TFX."""
    types = node.get("parameter_types", {})
    props: dict[str, Any] = {}
    for key, value in node.get("parameters", {}).items():
        if str(types.get(key, "")).startswith("proto:"):
            props[key] = json.dumps(value, sort_keys=True)
        else:
            props[key] = value
    return props


class _Clock:
    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self.started = time.monotonic()

    def result(self, status: str, execution_id: int | None, **kw: Any) -> NodeResult:
        return NodeResult(self.node_id, status, execution_id, time.monotonic() - self.started, **kw)


def launch_node(
    session: RunSession,
    node_id: str,
    *,
    on_start: Callable[[str], None] | None = None,
) -> NodeResult:
    """Run ``node_id`` in this session's run and record the outcome. Never raises for a
    failing executor: the failure is recorded and returned."""
    node = session.nodes.get(node_id)
    if node is None:
        raise LaunchError(
            f"pipeline {session.pipeline_name!r} has no node {node_id!r}; nodes: "
            + ", ".join(session.nodes)
        )
    clock = _Clock(node_id)
    previous = session.latest_in_run(node_id)
    if previous is not None and custom(previous, "status") in Status.FINISHED:
        # A retry of a node that already finished in this run (an orchestrator retrying after
        # the launcher exited, a resumed run): do nothing twice.
        return clock.result(
            custom(previous, "status"),
            previous.id,
            message="already finished in this run",
            outputs=session.outputs_of_execution(previous.id),
        )
    reap_orphans(session, node)
    try:
        decision = decide(session, node, upstream_in_run(session, node))
    except LaunchError as e:
        return _failed(session, node, clock, str(e))
    if decision.status == Status.SKIPPED:
        execution_id = session.record_skipped(node, decision.reason)
        return clock.result(Status.SKIPPED, execution_id, message=decision.reason)
    if decision.status == Status.FAILED:
        return _failed(session, node, clock, decision.reason, inputs=decision.inputs)
    if decision.status == Status.CACHED:
        assert decision.hit is not None and decision.hit_outputs is not None
        execution_id = session.record_linked(
            node,
            Status.CACHED,
            decision.inputs,
            decision.hit_outputs,
            cache_key=decision.cache_key,
            cache_key_parts=cache_mod.canonical(decision.parts or {}),
            cached_from=decision.hit.id,
        )
        return clock.result(
            Status.CACHED, execution_id, message=decision.reason, outputs=decision.hit_outputs
        )
    if node["kind"] == "resolver":
        return _run_resolver(session, node, clock)
    if node["kind"] == "importer":
        return _run_importer(session, node, clock)
    if on_start is not None:
        on_start(node_id)
    return _execute(session, node, decision, clock)


def _failed(
    session: RunSession,
    node: Mapping[str, Any],
    clock: _Clock,
    error: str,
    *,
    running: Any | None = None,
    inputs: Outputs | None = None,
) -> NodeResult:
    execution_id = session.record_failed(node, error, running=running, inputs=inputs)
    error = truncate_error(error)
    last = error.strip().splitlines()[-1] if error.strip() else "failed"
    return clock.result(Status.FAILED, execution_id, error=error, message=last)


def _execute(
    session: RunSession, node: Mapping[str, Any], decision: Decision, clock: _Clock
) -> NodeResult:
    node_id = node["id"]
    assert decision.cache_key is not None
    execution = session.record_running(
        node, decision.inputs, decision.cache_key, cache_mod.canonical(decision.parts or {})
    )
    execution_id = int(execution.id)
    write_marker(session, node_id, execution_id)
    outputs = stage_outputs(session, node, execution_id, decision.driven.output_properties)
    context = ExecutorContext(
        pipeline_name=session.pipeline_name,
        pipeline_root=session.pipeline_root,
        run_id=session.run_id,
        node_id=node_id,
        execution_id=execution_id,
        tmp_dir=session.layout.tmp(execution_id),
        beam_pipeline_args=tuple(session.ir["pipeline"].get("beam_pipeline_args") or ()),
    )
    # Imported here: a run that executes nothing (all cached) never needs the loader.
    from headrace_core.usercode import copies_under

    try:
        with node_scope(node_id), copies_under(session.layout.user_code):
            executor_class = load_executor_class(
                node["executor"], source_file=node.get("source_file")
            )
            executor = executor_class(context)
            properties = {**exec_properties(node), **decision.driven.exec_properties}
            executor.Do(decision.inputs, outputs, properties)
        check_outputs(node, outputs)
    except BaseException as e:
        discard_staging(session, node, execution_id)
        error = "".join(traceback.format_exception(e)).strip()
        failure = _failed(session, node, clock, error, running=execution)
        remove_marker(session, node_id, execution_id)
        if isinstance(e, KeyboardInterrupt):
            raise
        failure.message = f"{type(e).__name__}: {e}".splitlines()[0]
        # The user's own file and line, so a failure in their code needs no -v to be found.
        failure.where = user_frame(e)
        return failure
    publish(session, node, execution, outputs, decision.cache_key)
    return clock.result(Status.COMPLETE, execution_id, outputs=outputs)


def _run_resolver(session: RunSession, node: Mapping[str, Any], clock: _Clock) -> NodeResult:
    try:
        outputs = resolve(session, node)
    except Exception as e:
        return _failed(session, node, clock, f"{type(e).__name__}: {e}")
    summary = describe(outputs)
    execution_id = session.record_linked(node, Status.COMPLETE, {}, outputs, resolved=summary)
    return clock.result(Status.COMPLETE, execution_id, message=summary, outputs=outputs)


def _run_importer(session: RunSession, node: Mapping[str, Any], clock: _Clock) -> NodeResult:
    try:
        existing = find_imported(session, node)
        artifact = existing or new_import(session, node)
    except LaunchError as e:
        return _failed(session, node, clock, str(e))
    outputs = {"result": [artifact]}
    if existing is not None:
        execution_id = session.record_linked(node, Status.COMPLETE, {}, outputs, reused=existing.id)
        return clock.result(
            Status.COMPLETE, execution_id, message=f"reused artifact {existing.id}", outputs=outputs
        )
    execution_id = session.record_imported(node, "result", artifact)
    return clock.result(
        Status.COMPLETE,
        execution_id,
        message=f"imported {node['importer']['source_uri']}",
        outputs=outputs,
    )
