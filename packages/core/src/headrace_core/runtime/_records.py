"""What a session records: the only builder of MLMD Execution, Event and Context protos.

Every write of a run goes through these methods, each one MLMD transaction.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from headrace_core.artifacts import Artifact
from headrace_core.errors import HeadraceError
from headrace_core.metadata import (
    CACHE_CONTEXT,
    EVENT_INPUT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    RUN_CONTEXT,
    MetadataStore,
    artifact_to_proto,
    get_value,
    set_value,
)
from headrace_core.runtime._types import Status

__all__ = ["STATE", "SessionRecords", "truncate_error"]

#: MLMD's Execution.State values.
STATE = {"NEW": 1, "RUNNING": 2, "COMPLETE": 3, "FAILED": 4, "CACHED": 5, "CANCELED": 6}
_ERROR_LIMIT = 8000


def _properties(artifact: Artifact) -> dict[str, str]:
    return {k: v.value for k, v in type(artifact).PROPERTIES.items()}


def truncate_error(error: str) -> str:
    if len(error) <= _ERROR_LIMIT:
        return error
    return error[: _ERROR_LIMIT - 20] + "\n... (truncated)"


class SessionRecords:
    """The recording half of :class:`~headrace_core.runtime._session.RunSession`."""

    store: MetadataStore
    run_id: str
    pipeline_name: str
    read_only: bool
    pipeline_ctx: Any
    run_ctx: Any
    _lock: threading.Lock
    _latest: dict[str, Any]

    def node_ctx(self, node_id: str) -> Any:
        raise NotImplementedError

    def _proto_of(self, artifact: Artifact) -> Any:
        raise NotImplementedError

    def _writable(self) -> None:
        if self.read_only:
            raise HeadraceError("internal error: a read-only session was asked to write")

    # Recording -----------------------------------------------------------------------------

    def _put(
        self, node_id: str, execution: Any, links: list[tuple[Any, Any]], *extra_contexts: Any
    ) -> tuple[int, list[int]]:
        """Record ``execution`` of ``node_id`` with its events, in one MLMD transaction."""
        self._writable()
        contexts = [self.pipeline_ctx, self.run_ctx, self.node_ctx(node_id), *extra_contexts]
        execution_id, artifact_ids, context_ids = self.store.call(
            "put_execution", execution, links, contexts, reuse_context_if_already_exist=True
        )
        # A context made by this put (or by a concurrent one: MLMD then reuses it) gets its id.
        for ctx, context_id in zip(contexts, context_ids, strict=False):
            if not ctx.id:
                ctx.id = context_id
        execution.id = execution_id
        with self._lock:
            self._latest[node_id] = execution
        return int(execution_id), list(artifact_ids)

    def _execution(self, node: Mapping[str, Any], state: str, status: str, **props: Any) -> Any:
        from ml_metadata.proto import metadata_store_pb2 as pb

        self._writable()  # before registering its type: a read-only session writes nothing

        execution = pb.Execution(
            type_id=self.store.execution_type_id(node["type"]), last_known_state=STATE[state]
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
            execution.last_known_state = STATE["FAILED"]
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
        *,
        name: str,
    ) -> Any:
        """A RUNNING execution with its input events, named ``name`` and in the cache key's
        context from the start: the claim of :mod:`~headrace_core.runtime._claims` (MLMD's
        ``AlreadyExistsError`` when another launch took that name first). Returned for
        :meth:`record_complete`."""
        execution = self._execution(
            node,
            "RUNNING",
            Status.RUNNING,
            cache_key=cache_key,
            cache_key_parts=cache_key_parts,
            pid=os.getpid(),
            host=socket.gethostname(),
        )
        execution.name = name
        claim = self.store.context_proto(CACHE_CONTEXT, cache_key)
        self._put(node["id"], execution, self._links(EVENT_INPUT, inputs), claim)
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
        execution.last_known_state = STATE["COMPLETE"]
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
            if execution.last_known_state != STATE["RUNNING"]:
                continue
            execution.last_known_state = STATE["FAILED"]
            set_value(execution.custom_properties["status"], str(Status.ABANDONED))
            set_value(execution.custom_properties["error"], reason)
            self.store.call("put_executions", [execution])

    def finish(self, succeeded: bool) -> None:
        """Close the run: its status and end time on the run context."""
        self._writable()
        if not self.run_ctx.id:  # nothing was recorded in this process: find or make it
            found = self.store.get_context(RUN_CONTEXT, self.run_ctx.name)
            if found is not None:
                self.run_ctx = found
            else:
                self.run_ctx = self.store.ensure_context(
                    RUN_CONTEXT,
                    self.run_ctx.name,
                    **{k: get_value(v) for k, v in self.run_ctx.custom_properties.items()},
                )
        self.store.update_context(
            self.run_ctx, status="succeeded" if succeeded else "failed", finished_at=time.time()
        )
