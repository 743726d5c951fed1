"""One pipeline run's view of ML Metadata, and the only builder of its Execution, Event and
Context protos.

A session is opened for a run (``RunSession(ir, store, run_id)``: it creates the pipeline and
run contexts) or read-only (``RunSession.for_reading(ir, store)``: for plans and ``cache why``;
it creates nothing and refuses every write).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from headrace_core.artifacts import Artifact
from headrace_core.errors import HeadraceError
from headrace_core.executor import import_ref
from headrace_core.layout import PipelineLayout
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
from headrace_core.placeholders import resolve_node
from headrace_core.runtime._types import NodeResult, Status

__all__ = ["RunSession"]

# MLMD's Execution.State values.
_STATE = {"NEW": 1, "RUNNING": 2, "COMPLETE": 3, "FAILED": 4, "CACHED": 5, "CANCELED": 6}
_ERROR_LIMIT = 8000


def _generic_artifact_class(type_name: str) -> type[Artifact]:
    return type(type_name, (Artifact,), {"TYPE_NAME": type_name, "__module__": __name__})


def _properties(artifact: Artifact) -> dict[str, str]:
    return {k: v.value for k, v in type(artifact).PROPERTIES.items()}


def truncate_error(error: str) -> str:
    if len(error) <= _ERROR_LIMIT:
        return error
    return error[: _ERROR_LIMIT - 20] + "\n... (truncated)"


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
        _read_only: bool = False,
    ) -> None:
        self.ir = ir
        self.store = store
        self.run_id = run_id
        self.read_only = _read_only
        self.pipeline_name: str = ir["pipeline"]["name"]
        self.pipeline_root: str = ir["pipeline"]["root"]
        self.layout = PipelineLayout(self.pipeline_root)
        # Parameters written against the root (placeholders.PIPELINE_ROOT) are resolved
        # here, once, so that drivers, cache keys and executors all see this run's root.
        self.nodes: dict[str, Mapping[str, Any]] = {
            n["id"]: resolve_node(n, self.pipeline_root) for n in ir["nodes"]
        }
        self._classes: dict[str, type[Artifact]] = {}
        self._lock = threading.Lock()
        self._protos: dict[int, Any] = {}
        self._node_ctx: dict[str, Any] = {}
        # Newest execution of each node in this run. Read once here (a resumed run, another
        # process's launch) and kept current by _put: consumers ask per upstream node, and
        # re-reading the run context each time would cost O(nodes^2) per run.
        self._latest: dict[str, Any] = {}
        if _read_only:
            # Everything comes from history; a pipeline that never ran has no contexts, and
            # queries on the placeholder find nothing.
            self.reuse_latest = frozenset(self.nodes)
            found = store.get_context(PIPELINE_CONTEXT, self.pipeline_name)
            self.pipeline_ctx: Any = _no_context() if found is None else found
            self.run_ctx: Any = None
            return
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
            pipeline_root=self.layout.root,
        )
        stored = custom(self.run_ctx, "reused_nodes", "[]")
        self.reuse_latest = frozenset(json.loads(stored)) | frozenset(reuse_latest)
        for execution in store.executions_in_context(self.run_ctx.id, newest_first=False):
            self._latest[str(custom(execution, "node_id"))] = execution

    @classmethod
    def for_reading(
        cls, ir: Mapping[str, Any], store: MetadataStore, run_id: str | None = None
    ) -> RunSession:
        """A session that reads the store as a run would and writes nothing: as a new run, or
        as ``run_id`` resumed (its executions so far are the run's)."""
        session = cls(ir, store, run_id or "(dry run)", _read_only=True)
        ctx = (
            store.get_context(RUN_CONTEXT, run_context_name(session.pipeline_name, run_id))
            if run_id
            else None
        )
        if ctx is not None:
            for execution in store.executions_in_context(ctx.id, newest_first=False):
                session._latest[str(custom(execution, "node_id"))] = execution
        return session

    @staticmethod
    def run_exists(store: MetadataStore, pipeline_name: str, run_id: str) -> bool:
        """Whether ``run_id`` of ``pipeline_name`` is in the store and executed something."""
        ctx = store.get_context(RUN_CONTEXT, run_context_name(pipeline_name, run_id))
        return ctx is not None and bool(store.executions_in_context(ctx.id, limit=1))

    def _writable(self) -> None:
        if self.read_only:
            raise HeadraceError("internal error: a read-only session was asked to write")

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

    def is_type(self, type_name: str, wanted: str) -> bool:
        """Whether ``type_name`` is ``wanted`` or derives from it."""
        cls = self.artifact_class(type_name)
        return any(getattr(c, "TYPE_NAME", None) == wanted for c in cls.__mro__)

    def to_artifact(self, proto: Any) -> Artifact:
        with self._lock:
            self._protos[proto.id] = proto
        name = self.store.artifact_type_name(proto.type_id)
        return artifact_from_proto(proto, self.artifact_class(name))

    def _proto_of(self, artifact: Artifact) -> Any:
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
            name = node_context_name(self.pipeline_name, node_id)
            if self.read_only:
                ctx = self.store.get_context(NODE_CONTEXT, name) or _no_context()
            else:
                ctx = self.store.ensure_context(NODE_CONTEXT, name)
            self._node_ctx[node_id] = ctx
        return ctx

    # Reading -------------------------------------------------------------------------------

    def latest_in_run(self, node_id: str) -> Any | None:
        with self._lock:
            return self._latest.get(node_id)

    def latest_success_any_run(self, node_id: str) -> Any | None:
        ctx = self.store.get_context(NODE_CONTEXT, node_context_name(self.pipeline_name, node_id))
        if ctx is None:
            return None
        for execution in self.store.executions_in_context(ctx.id, limit=50):
            if custom(execution, "status") in Status.SUCCESS:
                return execution
        return None

    def last_keyed_execution(self, node_id: str, limit: int = 200) -> Any | None:
        """The newest successful execution of ``node_id`` that recorded its cache key parts."""
        ctx = self.store.get_context(NODE_CONTEXT, node_context_name(self.pipeline_name, node_id))
        if ctx is None:
            return None
        for execution in self.store.executions_in_context(ctx.id, limit=limit):
            if custom(execution, "status") in Status.SUCCESS and custom(
                execution, "cache_key_parts"
            ):
                return execution
        return None

    def cached_candidates(self, key: str, limit: int = 10) -> list[Any]:
        """COMPLETE executions recorded under cache key ``key``, newest first."""
        ctx = self.store.get_context(CACHE_CONTEXT, key)
        if ctx is None:
            return []
        return [
            e
            for e in self.store.executions_in_context(ctx.id, limit=limit)
            if e.last_known_state == _STATE["COMPLETE"]
        ]

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

    def recorded_result(self, node_id: str) -> NodeResult | None:
        """The outcome of ``node_id``'s latest execution in this run, as its launch reported
        it; None when it has none. For adapters whose nodes ran in processes they do not see."""
        execution = self.latest_in_run(node_id)
        if execution is None:
            return None
        status = str(custom(execution, "status"))
        error = custom(execution, "error")
        message = str(custom(execution, "reason") or "")
        if status == Status.CACHED:
            message = f"outputs of execution {custom(execution, 'cached_from')}"
        elif error:
            message = str(error).strip().splitlines()[-1]
        took = execution.last_update_time_since_epoch - execution.create_time_since_epoch
        return NodeResult(
            node_id,
            status,
            execution.id,
            max(0.0, took) / 1000.0,
            error=str(error) if error else None,
            message=message,
            outputs=self.outputs_of_execution(execution.id) if status in Status.SUCCESS else {},
        )

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

    def _put(
        self, node_id: str, execution: Any, links: list[tuple[Any, Any]], *extra_contexts: Any
    ) -> tuple[int, list[int]]:
        """Record ``execution`` of ``node_id`` with its events, in one MLMD transaction."""
        self._writable()
        contexts = [self.pipeline_ctx, self.run_ctx, self.node_ctx(node_id), *extra_contexts]
        execution_id, artifact_ids, _ = self.store.call(
            "put_execution", execution, links, contexts, reuse_context_if_already_exist=True
        )
        execution.id = execution_id
        with self._lock:
            self._latest[node_id] = execution
        return int(execution_id), list(artifact_ids)

    def _execution(self, node: Mapping[str, Any], state: str, status: str, **props: Any) -> Any:
        from ml_metadata.proto import metadata_store_pb2 as pb

        execution = pb.Execution(
            type_id=self.store.execution_type_id(node["type"]), last_known_state=_STATE[state]
        )
        values = {
            "node_id": node["id"],
            "run_id": self.run_id,
            "pipeline": self.pipeline_name,
            "status": str(status),
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
                links.append((self._proto_of(a), event))
        return links

    def record_skipped(self, node: Mapping[str, Any], reason: str) -> int:
        execution = self._execution(node, "CANCELED", Status.SKIPPED, reason=reason)
        return self._put(node["id"], execution, [])[0]

    def record_linked(
        self,
        node: Mapping[str, Any],
        status: str,
        inputs: Mapping[str, list[Artifact]],
        outputs: Mapping[str, list[Artifact]],
        **props: Any,
    ) -> int:
        """An execution that reuses existing artifacts as its outputs (cache hit, resolver,
        an importer finding its artifact)."""
        state = "CACHED" if status == Status.CACHED else "COMPLETE"
        execution = self._execution(node, state, status, **props)
        links = self._links(EVENT_INPUT, inputs) + self._links(EVENT_INTERNAL_OUTPUT, outputs)
        return self._put(node["id"], execution, links)[0]

    def record_failed(
        self,
        node: Mapping[str, Any],
        error: str,
        *,
        running: Any | None = None,
        inputs: Mapping[str, list[Artifact]] | None = None,
    ) -> int:
        """A failure: a new FAILED execution, or ``running`` (a RUNNING one) turned FAILED."""
        error = truncate_error(error)
        if running is None:
            execution = self._execution(node, "FAILED", Status.FAILED, error=error)
            links = self._links(EVENT_INPUT, inputs or {})
        else:
            execution = running
            execution.last_known_state = _STATE["FAILED"]
            set_value(execution.custom_properties["status"], str(Status.FAILED))
            set_value(execution.custom_properties["error"], error)
            links = []
        return self._put(node["id"], execution, links)[0]

    def record_running(
        self,
        node: Mapping[str, Any],
        inputs: Mapping[str, list[Artifact]],
        cache_key: str,
        cache_key_parts: str,
    ) -> Any:
        """A RUNNING execution with its input events; returned for :meth:`record_complete`."""
        execution = self._execution(
            node,
            "RUNNING",
            Status.RUNNING,
            cache_key=cache_key,
            cache_key_parts=cache_key_parts,
            pid=os.getpid(),
            host=socket.gethostname(),
        )
        self._put(node["id"], execution, self._links(EVENT_INPUT, inputs))
        return execution

    def record_complete(
        self,
        node: Mapping[str, Any],
        execution: Any,
        outputs: Mapping[str, list[Artifact]],
        cache_key: str | None,
    ) -> None:
        """``execution`` COMPLETE and its new ``outputs`` LIVE, in one transaction; the
        artifacts get their ids."""
        links = []
        for key, artifacts in outputs.items():
            for index, artifact in enumerate(artifacts):
                type_id = self.store.artifact_type_id(artifact.type_name, _properties(artifact))
                links.append(
                    (artifact_to_proto(artifact, type_id), self._event(EVENT_OUTPUT, key, index))
                )
        execution.last_known_state = _STATE["COMPLETE"]
        set_value(execution.custom_properties["status"], str(Status.COMPLETE))
        extra = [self.store.context_proto(CACHE_CONTEXT, cache_key)] if cache_key else []
        _, ids = self._put(node["id"], execution, links, *extra)
        for artifact, artifact_id in zip(
            [a for arts in outputs.values() for a in arts], ids, strict=True
        ):
            artifact.id = artifact_id

    def record_imported(self, node: Mapping[str, Any], key: str, artifact: Artifact) -> int:
        """An importer's new artifact, LIVE, with its COMPLETE execution."""
        execution = self._execution(node, "COMPLETE", Status.COMPLETE)
        self.record_complete(node, execution, {key: [artifact]}, None)
        return int(execution.id)

    def abandon(self, execution_ids: Iterable[int], reason: str) -> None:
        """RUNNING executions whose process died: FAILED with status ``abandoned``."""
        self._writable()
        for execution in self.store.call("get_executions_by_id", list(execution_ids)):
            if execution.last_known_state != _STATE["RUNNING"]:
                continue
            execution.last_known_state = _STATE["FAILED"]
            set_value(execution.custom_properties["status"], str(Status.ABANDONED))
            set_value(execution.custom_properties["error"], reason)
            self.store.call("put_executions", [execution])

    def finish(self, succeeded: bool) -> None:
        """Close the run: its status and end time on the run context."""
        self._writable()
        self.store.update_context(
            self.run_ctx, status="succeeded" if succeeded else "failed", finished_at=time.time()
        )


def _no_context() -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    return pb.Context(id=-1)
