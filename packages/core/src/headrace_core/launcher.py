"""The launcher: runs one node of one pipeline run, recording everything in ML Metadata.

Driver, executor and publisher in one place, and the same code for every orchestrator:

1. **Driver.** Upstream outputs of this run are read from MLMD (or, for nodes a partial run
   does not execute, their latest outputs from any run); a node whose upstream was skipped, or
   whose condition is false, is recorded as skipped. The cache key is computed; on a hit a
   CACHED execution is linked to the earlier outputs and nothing runs.
2. **Executor.** A RUNNING execution is recorded; outputs are staged in
   ``{pipeline_root}/{node_id}/{output_key}/{execution_id}.staging/``; the executor runs.
3. **Publisher.** Only after the executor succeeded and every required output is non-empty,
   the staging folders are renamed to ``.../{execution_id}/`` and the artifacts become LIVE
   together with the COMPLETE execution in one MLMD transaction. A failure records FAILED with
   the error, publishes nothing and removes the staging folders.

A runner killed mid-node leaves a RUNNING execution behind with no LIVE outputs; the next
launch of that node records it as abandoned (FAILED) and removes its staging folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import threading
import time
import traceback
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.artifacts import Artifact, ArtifactState
from headrace_core.channels import Channel, Predicate
from headrace_core.driver import DriverContext, DriverOutput
from headrace_core.errors import HeadraceError
from headrace_core.executor import ExecutorContext, import_ref, load_executor_class
from headrace_core.metadata import (
    CACHE_CONTEXT,
    EVENT_INPUT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    NODE_CONTEXT,
    PIPELINE_CONTEXT,
    RUN_CONTEXT,
    MetadataStore,
    artifact_from_proto,
    artifact_to_proto,
    custom,
    event_paths,
    node_context_name,
    run_context_name,
    set_value,
)

__all__ = [
    "LaunchError",
    "apply_environment",
    "NodeResult",
    "Prediction",
    "RunSession",
    "Status",
    "launch_node",
    "predict_node",
]


class Status:
    """Node outcomes, as stored in each execution's ``status`` custom property."""

    RUNNING = "running"
    COMPLETE = "complete"
    CACHED = "cached"
    FAILED = "failed"
    SKIPPED = "skipped"
    ABANDONED = "abandoned"

    SUCCESS = frozenset({COMPLETE, CACHED})
    FINISHED = frozenset({COMPLETE, CACHED, SKIPPED})


class LaunchError(HeadraceError):
    """A node cannot be launched: its upstream did not finish, an input is missing, ..."""


@dataclass
class NodeResult:
    node_id: str
    status: str
    execution_id: int | None = None
    duration: float = 0.0
    error: str | None = None
    message: str = ""
    outputs: dict[str, list[Artifact]] = field(default_factory=dict)

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        session: RunSession | None = None,
        *,
        duration: float | None = None,
    ) -> NodeResult:
        """A result written by ``python -m headrace_core.launch --result-file`` (``to_json``),
        with its outputs read back from the store when ``session`` is given, as an in-process
        launch returns them. Every runner that launches nodes in other processes uses this."""
        execution_id = data.get("execution_id")
        status = str(data.get("status"))
        outputs = (
            session.outputs_of_execution(int(execution_id))
            if session is not None and execution_id is not None and status in Status.SUCCESS
            else {}
        )
        return cls(
            str(data["node_id"]),
            status,
            execution_id,
            float(data.get("duration") or 0.0) if duration is None else duration,
            error=data.get("error"),
            message=str(data.get("message") or ""),
            outputs=outputs,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "status": self.status,
            "execution_id": self.execution_id,
            "duration": round(self.duration, 6),
            "error": self.error,
            "message": self.message,
            "outputs": {k: [a.id for a in v] for k, v in self.outputs.items()},
        }


@dataclass
class Prediction:
    """What launching a node now would do, without doing it."""

    node_id: str
    status: str  # "cached", "run", "skipped", "unknown"
    reason: str = ""
    cache_key: str | None = None
    parts: dict[str, Any] | None = None
    hit_execution: int | None = None
    outputs: dict[str, list[Artifact]] | None = None


_STATE = {
    "NEW": 1,
    "RUNNING": 2,
    "COMPLETE": 3,
    "FAILED": 4,
    "CACHED": 5,
    "CANCELED": 6,
}
_ERROR_LIMIT = 8000


def _generic_artifact_class(type_name: str) -> type[Artifact]:
    return type(type_name, (Artifact,), {"TYPE_NAME": type_name, "__module__": __name__})


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_local(uri: str) -> bool:
    return "://" not in uri


class RunSession:
    """One pipeline run's view of the store: contexts, types and node outputs."""

    def __init__(
        self,
        ir: Mapping[str, Any],
        store: MetadataStore,
        run_id: str,
        *,
        reuse_latest: Collection[str] = (),
        orchestrator: str = "local",
    ) -> None:
        self.ir = ir
        self.store = store
        self.run_id = run_id
        self.pipeline_name: str = ir["pipeline"]["name"]
        self.pipeline_root: str = ir["pipeline"]["root"]
        self.nodes: dict[str, Mapping[str, Any]] = {n["id"]: n for n in ir["nodes"]}
        self._classes: dict[str, type[Artifact]] = {}
        self._lock = threading.Lock()
        self._protos: dict[int, Any] = {}
        for name, info in ir.get("artifact_types", {}).items():
            store.artifact_type_id(name, info.get("properties", {}))
        self.pipeline_ctx = store.ensure_context(PIPELINE_CONTEXT, self.pipeline_name)
        self.run_ctx = store.ensure_context(
            RUN_CONTEXT,
            run_context_name(self.pipeline_name, run_id),
            run_id=run_id,
            pipeline=self.pipeline_name,
            reused_nodes=json.dumps(sorted(reuse_latest)),
            nodes=json.dumps([n["id"] for n in ir["nodes"]]),
            orchestrator=orchestrator,
            started_at=time.time(),
        )
        stored = custom(self.run_ctx, "reused_nodes", "[]")
        self.reuse_latest: frozenset[str] = frozenset(json.loads(stored)) | frozenset(reuse_latest)
        self._node_ctx: dict[str, Any] = {}
        # Newest execution of each node in this run. Read once here (a resumed run, another
        # process's launch) and kept current by put_execution: consumers ask per upstream node,
        # and re-reading the run context each time would cost O(nodes^2) per run.
        self._latest: dict[str, Any] = {}
        for execution in store.executions_in_context(self.run_ctx.id, newest_first=False):
            self._latest[str(custom(execution, "node_id"))] = execution

    # Types and conversion ------------------------------------------------------------------

    def artifact_class(self, type_name: str) -> type[Artifact]:
        cls = self._classes.get(type_name)
        if cls is None:
            from headrace_core.plugins.manager import get_plugin_manager

            registry = get_plugin_manager().artifact_types
            if type_name in registry:
                cls = registry.get(type_name)
            else:
                info = self.ir.get("artifact_types", {}).get(type_name)
                try:
                    cls = import_ref(info["class"]) if info else None
                except (ImportError, AttributeError, ValueError):
                    cls = None
                if not (isinstance(cls, type) and issubclass(cls, Artifact)):
                    cls = _generic_artifact_class(type_name)
            self._classes[type_name] = cls
        return cls

    def to_artifact(self, proto: Any) -> Artifact:
        with self._lock:
            self._protos[proto.id] = proto
        name = self.store.artifact_type_name(proto.type_id)
        return artifact_from_proto(proto, self.artifact_class(name))

    def proto_of(self, artifact: Artifact) -> Any:
        """The stored proto of an existing artifact, unchanged (so linking it rewrites nothing)."""
        assert artifact.id is not None
        with self._lock:
            proto = self._protos.get(artifact.id)
        if proto is None:
            [proto] = self.store.artifacts([artifact.id])
        return proto

    # Contexts ------------------------------------------------------------------------------

    def node_ctx(self, node_id: str) -> Any:
        ctx = self._node_ctx.get(node_id)
        if ctx is None:
            ctx = self.store.ensure_context(
                NODE_CONTEXT, node_context_name(self.pipeline_name, node_id)
            )
            self._node_ctx[node_id] = ctx
        return ctx

    def _contexts(self, node_id: str, *extra: Any) -> list[Any]:
        return [self.pipeline_ctx, self.run_ctx, self.node_ctx(node_id), *extra]

    # Executions ----------------------------------------------------------------------------

    def latest_in_run(self, node_id: str) -> Any | None:
        with self._lock:
            return self._latest.get(node_id)

    def put_execution(
        self, node_id: str, execution: Any, links: list[tuple[Any, Any]], *extra_contexts: Any
    ) -> tuple[int, list[int]]:
        """Record ``execution`` of ``node_id`` with its events, in one MLMD transaction."""
        execution_id, artifact_ids, _ = self.store.call(
            "put_execution",
            execution,
            links,
            self._contexts(node_id, *extra_contexts),
            reuse_context_if_already_exist=True,
        )
        execution.id = execution_id
        with self._lock:
            self._latest[node_id] = execution
        return int(execution_id), list(artifact_ids)

    def latest_success_any_run(self, node_id: str) -> Any | None:
        ctx = self.store.get_context(NODE_CONTEXT, node_context_name(self.pipeline_name, node_id))
        if ctx is None:
            return None
        for execution in self.store.executions_in_context(ctx.id, limit=50):
            if custom(execution, "status") in Status.SUCCESS:
                return execution
        return None

    def outputs_of_execution(self, execution_id: int) -> dict[str, list[Artifact]]:
        events = [
            e
            for e in self.store.events([execution_id])
            if e.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT)
        ]
        protos = {a.id: a for a in self.store.artifacts({e.artifact_id for e in events})}
        keyed: dict[str, list[tuple[int, Artifact]]] = {}
        for event in events:
            proto = protos.get(event.artifact_id)
            if proto is None:
                continue
            for key, index in event_paths(event):
                keyed.setdefault(key, []).append((index, self.to_artifact(proto)))
        return {k: [a for _, a in sorted(v, key=lambda p: p[0])] for k, v in keyed.items()}

    def node_state(self, node_id: str) -> tuple[str | None, Any | None]:
        """(status, execution) of ``node_id`` for this run's consumers.

        A node that a partial run does not execute contributes its latest successful
        execution from any run.
        """
        latest = self.latest_in_run(node_id)
        if latest is not None:
            status = custom(latest, "status")
            if status in Status.FINISHED or node_id not in self.reuse_latest:
                return status, latest
        if node_id in self.reuse_latest:
            previous = self.latest_success_any_run(node_id)
            if previous is not None:
                return custom(previous, "status"), previous
        return None, None

    # Recording -----------------------------------------------------------------------------

    def _execution(self, node: Mapping[str, Any], state: str, status: str, **props: Any) -> Any:
        from ml_metadata.proto import metadata_store_pb2 as pb

        execution = pb.Execution(
            type_id=self.store.execution_type_id(node["type"]),
            last_known_state=_STATE[state],
        )
        values = {
            "node_id": node["id"],
            "run_id": self.run_id,
            "pipeline": self.pipeline_name,
            "status": status,
            **props,
        }
        for key, value in values.items():
            if value is not None:
                set_value(execution.custom_properties[key], value)
        return execution

    @staticmethod
    def _event(kind: int, key: str, index: int) -> Any:
        from ml_metadata.proto import metadata_store_pb2 as pb

        event = pb.Event(type=kind)
        event.path.steps.add().key = key
        event.path.steps.add().index = index
        return event

    def _links(self, kind: int, artifacts_by_key: Mapping[str, list[Artifact]]) -> list[Any]:
        # MLMD keeps one event per (artifact, execution, type). An artifact under several keys
        # (a model evaluated against itself as the baseline, a resolver picking one artifact for
        # two channels) gets one event whose path holds a (key, index) pair per place, as TFX
        # records it; metadata.event_paths reads them back.
        links: list[tuple[Any, Any]] = []
        by_id: dict[int, Any] = {}
        for key, artifacts in sorted(artifacts_by_key.items()):
            for i, a in enumerate(artifacts):
                event = by_id.get(a.id) if a.id is not None else None
                if event is not None:
                    event.path.steps.add().key = key
                    event.path.steps.add().index = i
                    continue
                event = self._event(kind, key, i)
                if a.id is not None:
                    by_id[a.id] = event
                links.append((self.proto_of(a), event))
        return links

    def _input_events(self, inputs: Mapping[str, list[Artifact]]) -> list[tuple[Any, Any]]:
        return self._links(EVENT_INPUT, inputs)

    def record_skipped(self, node: Mapping[str, Any], reason: str) -> int:
        execution = self._execution(node, "CANCELED", Status.SKIPPED, reason=reason)
        return self.put_execution(node["id"], execution, [])[0]

    def record_linked(
        self,
        node: Mapping[str, Any],
        state: str,
        status: str,
        inputs: Mapping[str, list[Artifact]],
        outputs: Mapping[str, list[Artifact]],
        **props: Any,
    ) -> int:
        """An execution that reuses existing artifacts as its outputs (cache hit, resolver)."""
        execution = self._execution(node, state, status, **props)
        links = self._input_events(inputs) + self._links(EVENT_INTERNAL_OUTPUT, outputs)
        return self.put_execution(node["id"], execution, links)[0]


# Resolution ----------------------------------------------------------------------------------


def _upstream_outputs(
    session: RunSession, producer: str, node_id: str
) -> tuple[str, dict[str, list[Artifact]]]:
    status, execution = session.node_state(producer)
    if status is None or execution is None:
        hint = (
            " and has no successful run to reuse"
            if producer in session.reuse_latest
            else f" in run {session.run_id}"
        )
        raise LaunchError(f"node {node_id!r}: upstream node {producer!r} has not finished{hint}")
    if status == Status.SKIPPED:
        return status, {}
    if status not in Status.SUCCESS:
        raise LaunchError(
            f"node {node_id!r}: upstream node {producer!r} is {status} in run {session.run_id}"
        )
    return status, session.outputs_of_execution(execution.id)


def _condition_value(predicate: Mapping[str, Any], artifact: Artifact) -> Any:
    field_name = predicate["field"]
    if field_name == "custom_property":
        return artifact.get_custom_property(predicate["name"])
    if field_name == "property":
        return artifact.properties.get(predicate["name"])
    if field_name == "uri":
        return artifact.uri
    value = artifact.get_custom_property("value")
    if value is None and hasattr(artifact, "read"):
        value = artifact.read()
    return value


def _check_conditions(
    node: Mapping[str, Any], upstream: Mapping[str, dict[str, list[Artifact]]]
) -> str | None:
    """None when every condition holds; otherwise why the node is skipped."""
    for spec in node.get("conditions", []):
        artifacts = upstream.get(spec["producer"], {}).get(spec["output"], [])
        index = spec["index"]
        actual = (
            _condition_value(spec, artifacts[index])
            if -len(artifacts) <= index < len(artifacts)
            else None
        )
        predicate = Predicate(
            Channel(Artifact), index, spec["field"], spec["name"], spec["op"], spec["value"]
        )
        if not predicate.evaluate(actual):
            return (
                f"condition {spec['producer']}.outputs[{spec['output']!r}][{index}]."
                f"{spec['field']}({spec['name']!r}) {spec['op']} {spec['value']!r} is false "
                f"(value: {actual!r})"
            )
    return None


def _gather_upstream(
    session: RunSession, node: Mapping[str, Any]
) -> tuple[dict[str, dict[str, list[Artifact]]], str | None]:
    """Outputs of every upstream node, or the id of an upstream node that was skipped."""
    found: dict[str, dict[str, list[Artifact]]] = {}
    for producer in node.get("upstream", []):
        status, outputs = _upstream_outputs(session, producer, node["id"])
        if status == Status.SKIPPED:
            return found, producer
        found[producer] = outputs
    return found, None


def _inputs_from(
    node: Mapping[str, Any], upstream: Mapping[str, dict[str, list[Artifact]]]
) -> dict[str, list[Artifact]]:
    inputs: dict[str, list[Artifact]] = {}
    for key, ref in node.get("inputs", {}).items():
        if ref.get("producer") is None:
            continue
        artifacts = upstream.get(ref["producer"], {}).get(ref["output"], [])
        if not artifacts and node["kind"] == "component" and not ref.get("optional", False):
            raise LaunchError(
                f"node {node['id']!r}: required input {key!r} "
                f"({ref['producer']}.outputs[{ref['output']!r}]) resolved to no artifacts"
            )
        inputs[key] = list(artifacts)
    return inputs


def _key_inputs(inputs: Mapping[str, list[Artifact]]) -> dict[str, list[tuple[int, str]]]:
    return {
        key: [
            (int(a.id or 0), str(a.get_custom_property(cache_mod.FINGERPRINT_PROPERTY) or ""))
            for a in artifacts
        ]
        for key, artifacts in inputs.items()
    }


def _lookup_cache(
    session: RunSession, node: Mapping[str, Any], key: str
) -> tuple[Any, dict[str, list[Artifact]]] | None:
    ctx = session.store.get_context(CACHE_CONTEXT, key)
    if ctx is None:
        return None
    for execution in session.store.executions_in_context(ctx.id, limit=10):
        if execution.last_known_state != _STATE["COMPLETE"]:
            continue
        outputs = session.outputs_of_execution(execution.id)
        usable = True
        for out_key, declared in node.get("outputs", {}).items():
            artifacts = outputs.get(out_key, [])
            if not artifacts and not declared.get("optional", False):
                usable = False
            for artifact in artifacts:
                if artifact.state is not ArtifactState.LIVE or (
                    _is_local(artifact.uri) and not os.path.exists(artifact.uri)
                ):
                    usable = False
        if usable:
            return execution, outputs
    return None


def _cache_enabled(session: RunSession, node: Mapping[str, Any]) -> bool:
    override = node.get("enable_cache")
    if override is not None:
        return bool(override)
    return bool(session.ir["pipeline"].get("enable_cache", True))


# Launch ------------------------------------------------------------------------------------


def apply_environment(nodes: Iterable[Mapping[str, Any]]) -> None:
    """Set the variables the nodes' executors need, unless the user already set them.

    Done once per process before any executor is imported: some libraries read their
    variables only on first import (tf.keras picks Keras 2 or 3 that way).
    """
    for node in nodes:
        for key, value in (node.get("environment") or {}).items():
            os.environ.setdefault(key, value)


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
    started = time.monotonic()

    def result(status: str, execution_id: int | None, **kw: Any) -> NodeResult:
        return NodeResult(node_id, status, execution_id, time.monotonic() - started, **kw)

    previous = session.latest_in_run(node_id)
    if previous is not None and custom(previous, "status") in Status.FINISHED:
        # A retry of a node that already finished in this run (an orchestrator retrying after
        # the launcher exited, a resumed run): do nothing twice.
        return result(
            custom(previous, "status"),
            previous.id,
            message="already finished in this run",
            outputs=session.outputs_of_execution(previous.id),
        )
    _reap_orphans(session, node)

    try:
        upstream, skipped_by = _gather_upstream(session, node)
        if skipped_by is not None:
            skip_reason = f"upstream node {skipped_by!r} was skipped"
            return result(
                Status.SKIPPED, session.record_skipped(node, skip_reason), message=skip_reason
            )
        condition = _check_conditions(node, upstream)
        if condition is not None:
            return result(
                Status.SKIPPED, session.record_skipped(node, condition), message=condition
            )
        inputs = _inputs_from(node, upstream)
    except LaunchError as e:
        return _record_failure(session, node, None, {}, str(e), started)

    kind = node["kind"]
    if kind == "resolver":
        return _run_resolver(session, node, started)
    if kind == "importer":
        return _run_importer(session, node, started)
    return _run_component(session, node, inputs, started, on_start)


def _record_failure(
    session: RunSession,
    node: Mapping[str, Any],
    execution: Any | None,
    inputs: Mapping[str, list[Artifact]],
    error: str,
    started: float,
) -> NodeResult:
    error = (
        error if len(error) <= _ERROR_LIMIT else error[: _ERROR_LIMIT - 20] + "\n... (truncated)"
    )
    if execution is None:
        execution = session._execution(node, "FAILED", Status.FAILED, error=error)
        links = session._input_events(inputs)
    else:
        execution.last_known_state = _STATE["FAILED"]
        set_value(execution.custom_properties["status"], Status.FAILED)
        set_value(execution.custom_properties["error"], error)
        links = []
        _remove_marker(session, node["id"], execution.id)
    execution_id, _ = session.put_execution(node["id"], execution, links)
    first_line = error.strip().splitlines()[-1] if error.strip() else "failed"
    return NodeResult(
        node["id"],
        Status.FAILED,
        int(execution_id),
        time.monotonic() - started,
        error=error,
        message=first_line,
    )


def _run_driver(
    session: RunSession, node: Mapping[str, Any], inputs: Mapping[str, list[Artifact]]
) -> DriverOutput:
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


def _driver_error(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _exec_properties(node: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as executors receive them: protobuf messages as JSON strings, as in TFX."""
    types = node.get("parameter_types", {})
    props: dict[str, Any] = {}
    for key, value in node.get("parameters", {}).items():
        if str(types.get(key, "")).startswith("proto:"):
            props[key] = json.dumps(value, sort_keys=True)
        else:
            props[key] = value
    return props


def _staging_uri(session: RunSession, node_id: str, key: str, execution_id: int) -> str:
    return os.path.join(session.pipeline_root, node_id, key, f"{execution_id}.staging")


def _final_uri(session: RunSession, node_id: str, key: str, execution_id: int) -> str:
    return os.path.join(session.pipeline_root, node_id, key, str(execution_id))


def _is_empty(uri: str) -> bool:
    if not os.path.exists(uri):
        return True
    if os.path.isfile(uri):
        return False
    return not any(files for _, _, files in os.walk(uri))


def _run_component(
    session: RunSession,
    node: Mapping[str, Any],
    inputs: dict[str, list[Artifact]],
    started: float,
    on_start: Callable[[str], None] | None,
) -> NodeResult:
    node_id = node["id"]
    try:
        driven = _run_driver(session, node, inputs)
    except Exception as e:
        return _record_failure(session, node, None, inputs, _driver_error(e), started)
    parts = cache_mod.cache_key_parts(
        session.pipeline_name, node, _key_inputs(inputs), driven.cache_key
    )
    key = cache_mod.cache_key(parts)
    parts_json = cache_mod.canonical(parts)

    if _cache_enabled(session, node):
        hit = _lookup_cache(session, node, key)
        if hit is not None:
            cached_from, cached_outputs = hit
            execution_id = session.record_linked(
                node,
                "CACHED",
                Status.CACHED,
                inputs,
                cached_outputs,
                cache_key=key,
                cache_key_parts=parts_json,
                cached_from=cached_from.id,
            )
            return NodeResult(
                node_id,
                Status.CACHED,
                execution_id,
                time.monotonic() - started,
                message=f"outputs of execution {cached_from.id}",
                outputs=cached_outputs,
            )

    if on_start is not None:
        on_start(node_id)
    execution = session._execution(
        node,
        "RUNNING",
        Status.RUNNING,
        cache_key=key,
        cache_key_parts=parts_json,
        pid=os.getpid(),
        host=socket.gethostname(),
    )
    execution_id, _ = session.put_execution(node_id, execution, session._input_events(inputs))
    _write_marker(session, node_id, execution_id)
    outputs: dict[str, list[Artifact]] = {}
    for out_key, declared in node.get("outputs", {}).items():
        staging = _staging_uri(session, node_id, out_key, execution_id)
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        artifact = session.artifact_class(declared["type"])(staging)
        for prop, value in driven.output_properties.get(out_key, {}).items():
            artifact.set_property(prop, value)
        outputs[out_key] = [artifact]
    tmp_dir = os.path.join(session.pipeline_root, ".tmp", str(execution_id))
    context = ExecutorContext(
        pipeline_name=session.pipeline_name,
        pipeline_root=session.pipeline_root,
        run_id=session.run_id,
        node_id=node_id,
        execution_id=execution_id,
        tmp_dir=tmp_dir,
        beam_pipeline_args=tuple(session.ir["pipeline"].get("beam_pipeline_args") or ()),
    )

    def clean(staged: bool = True) -> None:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        if staged:
            for out_key in outputs:
                shutil.rmtree(_staging_uri(session, node_id, out_key, execution_id), True)

    try:
        executor_class = load_executor_class(node["executor"], source_file=node.get("source_file"))
        executor = executor_class(context)
        executor.Do(inputs, outputs, {**_exec_properties(node), **driven.exec_properties})
        for out_key, declared in node.get("outputs", {}).items():
            if declared.get("optional") or declared.get("allow_empty"):
                continue
            if all(_is_empty(a.uri) for a in outputs[out_key]):
                raise LaunchError(
                    f"node {node_id!r} produced an empty output {out_key!r}: the executor wrote "
                    f"nothing to {outputs[out_key][0].uri}"
                )
    except BaseException as e:
        clean()
        error = "".join(traceback.format_exception(e)).strip()
        failure = _record_failure(session, node, execution, inputs, error, started)
        if isinstance(e, KeyboardInterrupt):
            raise
        failure.message = f"{type(e).__name__}: {e}".splitlines()[0]
        return failure

    # Publish: rename staged outputs into place, then one transaction makes them LIVE.
    from ml_metadata.proto import metadata_store_pb2 as pb

    links = []
    for out_key, artifacts in outputs.items():
        final = _final_uri(session, node_id, out_key, execution_id)
        for index, artifact in enumerate(artifacts):
            target = final if len(artifacts) == 1 else os.path.join(final, str(index))
            if os.path.exists(target):
                shutil.rmtree(target)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if artifact.uri != target and os.path.exists(artifact.uri):
                os.replace(artifact.uri, target)
            artifact.uri = target
            artifact.state = ArtifactState.LIVE
            artifact.set_custom_property(
                cache_mod.FINGERPRINT_PROPERTY, cache_mod.fingerprint_path(target)
            )
            type_id = session.store.artifact_type_id(artifact.type_name, _properties(artifact))
            links.append(
                (
                    artifact_to_proto(artifact, type_id),
                    session._event(EVENT_OUTPUT, out_key, index),
                )
            )
    execution.last_known_state = pb.Execution.COMPLETE
    set_value(execution.custom_properties["status"], Status.COMPLETE)
    cache_ctx = session.store.context_proto(CACHE_CONTEXT, key)
    _, artifact_ids = session.put_execution(node_id, execution, links, cache_ctx)
    _remove_marker(session, node_id, execution_id)
    for artifact, artifact_id in zip(
        [a for arts in outputs.values() for a in arts], artifact_ids, strict=True
    ):
        artifact.id = artifact_id
    clean(staged=False)
    return NodeResult(
        node_id, Status.COMPLETE, execution_id, time.monotonic() - started, outputs=outputs
    )


def _properties(artifact: Artifact) -> dict[str, str]:
    return {k: v.value for k, v in type(artifact).PROPERTIES.items()}


def _marker_dir(session: RunSession, node_id: str) -> str:
    return os.path.join(session.pipeline_root, ".headrace", "running", node_id)


def _write_marker(session: RunSession, node_id: str, execution_id: int) -> None:
    """Note on disk which process runs ``execution_id``, so a later launch can tell, without
    querying the store, whether a RUNNING execution lost its process."""
    directory = _marker_dir(session, node_id)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f"{execution_id}.json"), "w", encoding="utf-8") as f:
        json.dump({"pid": os.getpid(), "host": socket.gethostname()}, f)


def _remove_marker(session: RunSession, node_id: str, execution_id: int | None) -> None:
    if execution_id is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(_marker_dir(session, node_id), f"{execution_id}.json"))


def _reap_orphans(session: RunSession, node: Mapping[str, Any]) -> None:
    """Record RUNNING executions of this node whose process died as abandoned.

    Running executions leave a marker file until they finish; normally there is none, and
    this costs one directory listing, whatever the history in the store.
    """
    directory = _marker_dir(session, node["id"])
    try:
        markers = os.listdir(directory)
    except FileNotFoundError:
        return
    host = socket.gethostname()
    for name in markers:
        try:
            execution_id = int(name.split(".")[0])
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                owner = json.load(f)
        except (ValueError, OSError):
            continue
        pid = owner.get("pid")
        if owner.get("host") != host or not isinstance(pid, int) or _pid_alive(pid):
            continue
        for execution in session.store.call("get_executions_by_id", [execution_id]):
            if execution.last_known_state != _STATE["RUNNING"]:
                continue
            execution.last_known_state = _STATE["FAILED"]
            set_value(execution.custom_properties["status"], Status.ABANDONED)
            set_value(
                execution.custom_properties["error"],
                f"abandoned: the process running it (pid {pid} on {host}) died before it finished",
            )
            session.store.call("put_executions", [execution])
        for out_key in node.get("outputs", {}):
            shutil.rmtree(_staging_uri(session, node["id"], out_key, execution_id), True)
        shutil.rmtree(os.path.join(session.pipeline_root, ".tmp", str(execution_id)), True)
        _remove_marker(session, node["id"], execution_id)


# Resolvers and importers ---------------------------------------------------------------------


def _channel_candidates(
    session: RunSession, node: Mapping[str, Any], ref: Mapping[str, Any]
) -> list[Artifact]:
    """LIVE artifacts a resolver channel can choose from, newest first."""
    from ml_metadata.metadata_store import metadata_store

    options = metadata_store.ListOptions(
        order_by=metadata_store.OrderByField.ID,
        is_asc=False,
        filter_query=f"type = '{ref['type']}' AND state = LIVE",
    )
    if ref.get("producer") is None:
        protos = session.store.call(
            "get_artifacts_by_context", session.pipeline_ctx.id, list_options=options
        )
        return [session.to_artifact(p) for p in protos]
    producer_ctx = session.node_ctx(ref["producer"])
    protos = session.store.call("get_artifacts_by_context", producer_ctx.id, list_options=options)
    # The producer's context also holds its inputs and its other outputs of the same type:
    # keep what one of its executions output under the channel's key.
    produced = _output_under_key(session, ref["producer"], ref["output"], [p.id for p in protos])
    return [session.to_artifact(p) for p in protos if p.id in produced]


def _output_under_key(
    session: RunSession, node_id: str, key: str, artifact_ids: list[int]
) -> set[int]:
    if not artifact_ids:
        return set()
    events = [
        e
        for e in session.store.call("get_events_by_artifact_ids", artifact_ids)
        if e.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT)
        and any(k == key for k, _ in event_paths(e))
    ]
    ids = {e.execution_id for e in events}
    executions = session.store.call("get_executions_by_id", ids) if ids else []
    ours = {
        x.id
        for x in executions
        if custom(x, "node_id") == node_id and custom(x, "pipeline") == session.pipeline_name
    }
    return {e.artifact_id for e in events if e.execution_id in ours}


def _resolve(session: RunSession, node: Mapping[str, Any]) -> dict[str, list[Artifact]]:
    strategy = node["resolver"]["strategy"]
    config = node["resolver"].get("config") or {}
    channels = node.get("inputs", {})
    candidates = {k: _channel_candidates(session, node, ref) for k, ref in channels.items()}
    if strategy == "latest_artifact":
        return {k: v[:1] for k, v in candidates.items()}
    if strategy == "latest_blessed_model":
        model_key = next(k for k, r in channels.items() if _is_type(session, r["type"], "Model"))
        blessing_key = next(
            k for k, r in channels.items() if _is_type(session, r["type"], "ModelBlessing")
        )
        blessed: dict[int, Artifact] = {}
        for blessing in candidates[blessing_key]:
            if blessing.get_custom_property("blessed") == 1:
                model_id = blessing.get_custom_property("current_model_id")
                if isinstance(model_id, int):
                    blessed.setdefault(model_id, blessing)
        for model in candidates[model_key]:
            if model.id in blessed:
                return {model_key: [model], blessing_key: [blessed[model.id]]}
        return {model_key: [], blessing_key: []}
    if strategy == "span_range":
        ((kind, body),) = config["range_config"].items()
        result: dict[str, list[Artifact]] = {}
        for key, artifacts in candidates.items():
            by_span: dict[int, Artifact] = {}
            for artifact in artifacts:  # newest first: the first per (span, version) wins
                span = artifact.properties.get("span")
                if not isinstance(span, int):
                    continue
                best = by_span.get(span)
                version = int(artifact.properties.get("version") or 0)
                if best is None or version > int(best.properties.get("version") or 0):
                    by_span[span] = artifact
            spans = sorted(by_span)
            start = body.get("start_span_number", 0)
            if kind == "static_range":
                chosen = [s for s in spans if start <= s <= body["end_span_number"]]
            else:
                chosen = [s for s in spans if s >= start][-int(body.get("num_spans", 1)) :]
            result[key] = [by_span[s] for s in chosen]
        return result
    raise LaunchError(f"node {node['id']!r}: unknown resolver strategy {strategy!r}")


def _is_type(session: RunSession, type_name: str, wanted: str) -> bool:
    cls = session.artifact_class(type_name)
    return any(getattr(c, "TYPE_NAME", None) == wanted for c in cls.__mro__)


def _run_resolver(session: RunSession, node: Mapping[str, Any], started: float) -> NodeResult:
    try:
        outputs = _resolve(session, node)
    except Exception as e:
        return _record_failure(session, node, None, {}, f"{type(e).__name__}: {e}", started)
    execution_id = session.record_linked(
        node, "COMPLETE", Status.COMPLETE, {}, outputs, resolved=_describe(outputs)
    )
    return NodeResult(
        node["id"],
        Status.COMPLETE,
        execution_id,
        time.monotonic() - started,
        message=_describe(outputs),
        outputs=outputs,
    )


def _describe(outputs: Mapping[str, list[Artifact]]) -> str:
    return ", ".join(f"{k}: {[a.id for a in v]}" for k, v in sorted(outputs.items()))


def _run_importer(session: RunSession, node: Mapping[str, Any], started: float) -> NodeResult:
    spec = node["importer"]
    uri = spec["source_uri"]
    out_type = node["outputs"]["result"]["type"]
    if _is_local(uri) and not os.path.exists(uri):
        return _record_failure(
            session, node, None, {}, f"Importer {node['id']!r}: {uri} does not exist", started
        )
    fingerprint = cache_mod.fingerprint_path(uri) if _is_local(uri) else ""
    cls = session.artifact_class(out_type)
    if not spec.get("reimport", False):
        wanted_custom = {**spec.get("custom_properties", {}), "fingerprint": fingerprint}
        for proto in sorted(session.store.call("get_artifacts_by_uri", uri), key=lambda p: -p.id):
            if session.store.artifact_type_name(proto.type_id) != out_type:
                continue
            existing = session.to_artifact(proto)
            if (
                existing.state is ArtifactState.LIVE
                and existing.properties == dict(spec.get("properties", {}))
                and existing.custom_properties == wanted_custom
            ):
                outputs = {"result": [existing]}
                execution_id = session.record_linked(
                    node, "COMPLETE", Status.COMPLETE, {}, outputs, reused=existing.id
                )
                return NodeResult(
                    node["id"],
                    Status.COMPLETE,
                    execution_id,
                    time.monotonic() - started,
                    message=f"reused artifact {existing.id}",
                    outputs=outputs,
                )
    artifact = cls(
        uri,
        state=ArtifactState.LIVE,
        properties=spec.get("properties", {}),
        custom_properties={**spec.get("custom_properties", {}), "fingerprint": fingerprint},
    )
    type_id = session.store.artifact_type_id(out_type, _properties(artifact))
    execution = session._execution(node, "COMPLETE", Status.COMPLETE)
    execution_id, [artifact_id] = session.put_execution(
        node["id"],
        execution,
        [(artifact_to_proto(artifact, type_id), session._event(EVENT_OUTPUT, "result", 0))],
    )
    artifact.id = artifact_id
    return NodeResult(
        node["id"],
        Status.COMPLETE,
        int(execution_id),
        time.monotonic() - started,
        message=f"imported {uri}",
        outputs={"result": [artifact]},
    )


# Prediction (dry runs, `cache why`) -----------------------------------------------------------


def predict_node(
    session: RunSession, node_id: str, predicted: Mapping[str, Prediction]
) -> Prediction:
    """What :func:`launch_node` would do now, given predictions for the upstream nodes."""
    node = session.nodes[node_id]
    upstream: dict[str, dict[str, list[Artifact]]] = {}
    for producer in node.get("upstream", []):
        p = predicted.get(producer)
        if p is None:
            status, execution = session.node_state(producer)
            if status in Status.SUCCESS and execution is not None:
                upstream[producer] = session.outputs_of_execution(execution.id)
                continue
            return Prediction(node_id, "unknown", f"upstream {producer!r} has no outputs yet")
        if p.status == "skipped":
            return Prediction(node_id, "skipped", f"upstream {producer!r} would be skipped")
        if p.outputs is None:
            return Prediction(node_id, "run", f"upstream {producer!r} runs first")
        upstream[producer] = p.outputs
    reason = _check_conditions(node, upstream)
    if reason is not None:
        return Prediction(node_id, "skipped", reason)
    if node["kind"] == "resolver":
        outputs = _resolve(session, node)
        return Prediction(node_id, "run", "resolver: " + _describe(outputs), outputs=outputs)
    if node["kind"] == "importer":
        return Prediction(node_id, "run", "importer")
    try:
        inputs = _inputs_from(node, upstream)
    except LaunchError as e:
        return Prediction(node_id, "run", str(e))
    try:
        driven = _run_driver(session, node, inputs)
    except Exception as e:
        return Prediction(node_id, "run", f"driver fails: {_driver_error(e)}")
    parts = cache_mod.cache_key_parts(
        session.pipeline_name, node, _key_inputs(inputs), driven.cache_key
    )
    key = cache_mod.cache_key(parts)
    if not _cache_enabled(session, node):
        return Prediction(node_id, "run", "cache disabled", key, parts)
    hit = _lookup_cache(session, node, key)
    if hit is not None:
        execution, outputs = hit
        return Prediction(
            node_id,
            "cached",
            f"outputs of execution {execution.id}",
            key,
            parts,
            execution.id,
            outputs,
        )
    return Prediction(node_id, "run", "no cached execution with this key", key, parts)
