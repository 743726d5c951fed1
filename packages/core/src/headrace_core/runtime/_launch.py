"""Launching one node of one pipeline run: decide, then skip, link a cache hit, resolve,
import, or execute and publish; every outcome recorded in ML Metadata.

A runner killed mid-node leaves a RUNNING execution behind with no LIVE outputs; the next
launch of that node records it as abandoned and removes what it staged.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.executor import ExecutorContext, load_executor_class
from headrace_core.metadata import custom
from headrace_core.runtime._claims import (
    attempt_name,
    heartbeat,
    next_attempt,
    reap_orphans,
    wait_for_owner,
)
from headrace_core.runtime._decide import Decision, cache_enabled, decide, lookup_cache
from headrace_core.runtime._inputs import Outputs, upstream_in_run
from headrace_core.runtime._logs import node_scope, report_progress, user_frame
from headrace_core.runtime._publish import (
    check_outputs,
    discard_unfinished,
    place_outputs,
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
    node = decision.node or node
    if decision.status == Status.SKIPPED:
        execution_id = session.record_skipped(node, decision.reason)
        return clock.result(Status.SKIPPED, execution_id, message=decision.reason)
    if decision.status == Status.FAILED:
        return _failed(session, node, clock, decision.reason, inputs=decision.inputs)
    if decision.status == Status.CACHED:
        return _link_hit(session, node, decision, clock)
    if node["kind"] == "resolver":
        return _run_resolver(session, node, clock)
    if node["kind"] == "importer":
        return _run_importer(session, node, clock)
    if on_start is not None:
        on_start(node_id)
    return _execute(session, node, decision, clock)


def _link_hit(
    session: RunSession, node: Mapping[str, Any], decision: Decision, clock: _Clock
) -> NodeResult:
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


def _already_exists(error: BaseException) -> bool:
    return type(error).__name__ == "AlreadyExistsError" or "already exists" in str(error).lower()


def _claim(
    session: RunSession, node: Mapping[str, Any], decision: Decision
) -> tuple[Any, str] | Decision:
    """The RUNNING execution this launch claimed and its marker's token, or the cache hit
    that another launch of the same key produced while this one waited (see ``_claims``)."""
    assert decision.cache_key is not None
    key, attempts = decision.cache_key, decision.attempts
    caching = cache_enabled(session, node)
    told: set[int] = set()
    fresh = False  # whether attempts were read after the decision (another launch moved)

    def waiting(owner: Any) -> None:
        if owner.id not in told:
            told.add(owner.id)
            with node_scope(node["id"]):
                report_progress(
                    f"waiting for execution {owner.id} (run {custom(owner, 'run_id')}, pid "
                    f"{custom(owner, 'pid')} on {custom(owner, 'host')}): same cache key"
                )

    while True:
        if caching:
            attempts = wait_for_owner(session, node, key, attempts, waiting)
            if told or fresh:
                hit = lookup_cache(session, node, key, attempts)
                if hit is not None:
                    decision.status, decision.reason = (
                        Status.CACHED,
                        f"outputs of execution {hit[0].id}",
                    )
                    decision.hit, decision.hit_outputs = hit
                    return decision
        name = attempt_name(key, next_attempt(attempts))
        token = uuid.uuid4().hex
        write_marker(session, node, token, name)
        try:
            execution = session.record_running(
                node,
                decision.inputs,
                key,
                cache_mod.canonical(decision.parts or {}),
                name=name,
            )
        except Exception as e:
            remove_marker(session, node["id"], token)
            if not _already_exists(e):
                raise
            attempts = session.attempts(key)  # another launch took this attempt: look again
            fresh = True
            continue
        return execution, token


def _execute(
    session: RunSession, node: Mapping[str, Any], decision: Decision, clock: _Clock
) -> NodeResult:
    node_id = node["id"]
    try:
        claimed = _claim(session, node, decision)
    except OSError as e:
        # The pipeline root cannot be written (read-only, full): nothing was claimed.
        return _failed(session, node, clock, f"cannot write under the pipeline root: {e}")
    if isinstance(claimed, Decision):
        return _link_hit(session, node, claimed, clock)
    execution, token = claimed
    execution_id = int(execution.id)
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
        with heartbeat(session, execution):
            outputs = stage_outputs(session, node, execution_id, decision.driven.output_properties)
            with node_scope(node_id), copies_under(session.layout.user_code):
                executor_class = load_executor_class(
                    node["executor"], source_file=node.get("source_file")
                )
                executor = executor_class(context)
                properties = {**exec_properties(node), **decision.driven.exec_properties}
                executor.Do(decision.inputs, outputs, properties)
            check_outputs(node, outputs)
            place_outputs(session, node, execution, outputs)
    except BaseException as e:
        discard_unfinished(session, node, execution_id)
        error = "".join(traceback.format_exception(e)).strip()
        if isinstance(e, OSError) and not isinstance(e, (FileNotFoundError, PermissionError)):
            error = f"{error}\n(writing under the pipeline root {session.layout.root} failed)"
        failure = _failed(session, node, clock, error, running=execution)
        remove_marker(session, node_id, token)
        if isinstance(e, KeyboardInterrupt):
            raise
        failure.message = f"{type(e).__name__}: {e}".splitlines()[0]
        # The user's own file and line, so a failure in their code needs no -v to be found.
        failure.where = user_frame(e)
        return failure
    session.record_complete(node, execution, outputs, decision.cache_key)
    remove_marker(session, node_id, token)
    shutil.rmtree(session.layout.tmp(execution_id), ignore_errors=True)
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
