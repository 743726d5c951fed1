"""The MLMD connection: one lock, busy-retrying calls, cached type ids, context helpers."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from headrace_core.metadata._names import MetadataError
from headrace_core.metadata._urls import connection_config, redact
from headrace_core.metadata._values import set_value

__all__ = ["MetadataStore"]

T = TypeVar("T")


def _is_busy(error: Exception) -> bool:
    text = str(error).lower()
    # "retry the connection": MLMD's own advice when a second process opens a store the
    # first is creating; "concurrent writes aborted": its schema set-up losing such a race.
    return any(
        s in text
        for s in (
            "database is locked",
            "busy",
            "deadlock",
            "retry the connection",
            "concurrent writes aborted",
        )
    )


class MetadataStore:
    """A thread-safe MLMD connection whose calls retry while the database is busy.

    SQLite allows one writer at a time: two ``headrace run`` processes on one store see
    "database is locked" now and then, including while the store is opened. Every call here
    retries with jittered backoff for up to ``busy_timeout`` seconds.
    """

    def __init__(self, url: str, *, busy_timeout: float = 120.0) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._type_ids: dict[tuple[str, str], int] = {}
        self._type_names: dict[int, str] = {}
        config = connection_config(url)
        from ml_metadata.metadata_store import metadata_store

        try:
            self._store = self._retry(lambda: metadata_store.MetadataStore(config))
        except MetadataError:
            raise
        except Exception as e:
            raise MetadataError(f"cannot open metadata store {redact(url)}: {e}") from e

    def _retry(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.01
        while True:
            try:
                return fn()
            except Exception as e:
                if not _is_busy(e) or time.monotonic() > deadline:
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``store.<method>(*args, **kwargs)`` under the lock, retried while busy."""
        fn = getattr(self._store, method)
        with self._lock:
            return self._retry(lambda: fn(*args, **kwargs))

    @property
    def raw(self) -> Any:
        """The underlying ``ml_metadata`` store, for queries this wrapper does not offer."""
        return self._store

    # Types ---------------------------------------------------------------------------------

    def artifact_type_id(self, name: str, properties: Mapping[str, str] | None = None) -> int:
        key = ("artifact", name)
        if key not in self._type_ids:
            from ml_metadata.proto import metadata_store_pb2 as pb

            wanted = {prop: getattr(pb, str(kind)) for prop, kind in (properties or {}).items()}
            # A read first: registering a type that is already there would still be a write.
            existing = self._get_type("get_artifact_type", name)
            if existing is not None and all(
                existing.properties.get(p) == k for p, k in wanted.items()
            ):
                self._type_ids[key] = existing.id
            else:
                t = pb.ArtifactType(name=name)
                for prop, kind in wanted.items():
                    t.properties[prop] = kind
                self._type_ids[key] = self.call("put_artifact_type", t, can_add_fields=True)
        return self._type_ids[key]

    def _get_type(self, method: str, name: str) -> Any | None:
        try:
            return self.call(method, name)
        except Exception as e:
            if "not found" in str(e).lower() or type(e).__name__ == "NotFoundError":
                return None
            raise

    def execution_type_id(self, name: str) -> int:
        key = ("execution", name)
        existing = None if key in self._type_ids else self._get_type("get_execution_type", name)
        if existing is not None:
            self._type_ids[key] = existing.id
        if key not in self._type_ids:
            from ml_metadata.proto import metadata_store_pb2 as pb

            self._type_ids[key] = self.call(
                "put_execution_type", pb.ExecutionType(name=name), can_add_fields=True
            )
        return self._type_ids[key]

    def context_type_id(self, name: str) -> int:
        key = ("context", name)
        existing = None if key in self._type_ids else self._get_type("get_context_type", name)
        if existing is not None:
            self._type_ids[key] = existing.id
        if key not in self._type_ids:
            from ml_metadata.proto import metadata_store_pb2 as pb

            self._type_ids[key] = self.call(
                "put_context_type", pb.ContextType(name=name), can_add_fields=True
            )
        return self._type_ids[key]

    # Contexts ------------------------------------------------------------------------------

    def get_context(self, type_name: str, name: str) -> Any | None:
        return self.call("get_context_by_type_and_name", type_name, name)

    def context_proto(self, type_name: str, name: str, **custom: Any) -> Any:
        """A context proto to pass to ``put_execution`` (created there if missing)."""
        from ml_metadata.proto import metadata_store_pb2 as pb

        ctx = pb.Context(type_id=self.context_type_id(type_name), name=name)
        for k, v in custom.items():
            set_value(ctx.custom_properties[k], v)
        return ctx

    def ensure_context(self, type_name: str, name: str, **custom: Any) -> Any:
        existing = self.get_context(type_name, name)
        if existing is not None:
            return existing
        ctx = self.context_proto(type_name, name, **custom)
        try:
            [ctx.id] = self.call("put_contexts", [ctx])
        except Exception as e:
            if "exist" not in str(e).lower():
                raise
            found = self.get_context(type_name, name)
            if found is None:
                raise
            return found
        return ctx

    def update_context(self, ctx: Any, **custom: Any) -> None:
        for k, v in custom.items():
            set_value(ctx.custom_properties[k], v)
        self.call("put_contexts", [ctx])

    # Queries -------------------------------------------------------------------------------

    def executions_in_context(
        self,
        context_id: int,
        *,
        limit: int | None = None,
        newest_first: bool = True,
        filter_query: str | None = None,
    ) -> list[Any]:
        from ml_metadata.metadata_store import metadata_store

        options = metadata_store.ListOptions(
            limit=limit,
            order_by=metadata_store.OrderByField.ID,
            is_asc=not newest_first,
            filter_query=filter_query,
        )
        return list(self.call("get_executions_by_context", context_id, list_options=options))

    def events(self, execution_ids: Iterable[int]) -> list[Any]:
        ids = list(execution_ids)
        return list(self.call("get_events_by_execution_ids", ids)) if ids else []

    def artifacts(self, artifact_ids: Iterable[int]) -> list[Any]:
        ids = list(artifact_ids)
        return list(self.call("get_artifacts_by_id", ids)) if ids else []

    def artifact_type_name(self, type_id: int) -> str:
        if type_id not in self._type_names:
            for t in self.call("get_artifact_types_by_id", [type_id]):
                self._type_names[t.id] = t.name
        return self._type_names[type_id]
