"""One pipeline run's view of ML Metadata, and the only builder of its Execution, Event and
Context protos.

A session is opened for a run (``RunSession(ir, store, run_id)``: it creates the pipeline and
run contexts) or read-only (``RunSession.for_reading(ir, store)``: for plans and ``cache why``;
it creates nothing and refuses every write).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Collection, Mapping
from typing import Any

from headrace_core.artifacts import Artifact
from headrace_core.executor import import_ref
from headrace_core.layout import PipelineLayout
from headrace_core.metadata import (
    CACHE_CONTEXT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    NODE_CONTEXT,
    PIPELINE_CONTEXT,
    RUN_CONTEXT,
    MetadataStore,
    artifact_from_proto,
    custom,
    event_paths,
    node_context_name,
    run_context_name,
)
from headrace_core.placeholders import resolve_node
from headrace_core.runtime._records import SessionRecords
from headrace_core.runtime._types import NodeResult, Status

__all__ = ["RunSession"]


def _generic_artifact_class(type_name: str) -> type[Artifact]:
    return type(type_name, (Artifact,), {"TYPE_NAME": type_name, "__module__": __name__})


class RunSession(SessionRecords):
    """One pipeline run's view of the store: contexts, types and node outputs; what it
    records is in :class:`SessionRecords`."""

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
        # Contexts that do not exist yet are created by the first execution put with them
        # (one transaction for both), not by a write of their own: see _records._put.
        self.pipeline_ctx = store.get_context(
            PIPELINE_CONTEXT, self.pipeline_name
        ) or store.context_proto(PIPELINE_CONTEXT, self.pipeline_name)
        run_name = run_context_name(self.pipeline_name, run_id)
        self.run_ctx = store.get_context(RUN_CONTEXT, run_name) or store.context_proto(
            RUN_CONTEXT,
            run_name,
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
        if self.run_ctx.id:
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
            ctx = self.store.get_context(NODE_CONTEXT, name)
            if ctx is None:
                ctx = (
                    _no_context()
                    if self.read_only
                    else self.store.context_proto(NODE_CONTEXT, name)
                )
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

    def attempts(self, key: str, limit: int = 20) -> list[Any]:
        """Executions recorded under cache key ``key`` in any state, newest first: each that
        started work joined the key's context when it started (see ``_claims``)."""
        ctx = self.store.get_context(CACHE_CONTEXT, key)
        if ctx is None:
            return []
        return self.store.executions_in_context(ctx.id, limit=limit)

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


def _no_context() -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    return pb.Context(id=-1)
