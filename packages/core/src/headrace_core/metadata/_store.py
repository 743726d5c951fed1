"""The MLMD connection: one lock, busy-retrying calls, cached type ids, context helpers."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from headrace_core.metadata._health import (
    BUSY,
    CONNECT,
    CONNECTION,
    CORRUPT,
    FRESH,
    FULL,
    NEWER,
    OLDER,
    cause,
    classify,
    corrupt_error,
    inspect_sqlite,
    is_foreign,
    preflight_sqlite,
    schema_error,
)
from headrace_core.metadata._names import MetadataError
from headrace_core.metadata._urls import connection_config, redact, sqlite_path
from headrace_core.metadata._values import set_value

__all__ = ["MetadataStore"]

T = TypeVar("T")

# How long each transient kind of error is retried. Creating MLMD's schema takes milliseconds
# on SQLite, so a "retry the connection" that outlives a few seconds there is a damaged schema,
# not a race; on MySQL each DDL statement commits on its own and 8 racing creators take longer.
_FRESH_WINDOW_SQLITE_S = 3.0
_FRESH_WINDOW_MYSQL_S = 30.0
# A MySQL restart: long enough for the server to come back, short enough for a wrong port.
_CONNECTION_WINDOW_S = 20.0

_SQLITE_READONLY = 1  # SqliteMetadataSourceConfig.READONLY
# SQLite files this process opened through MLMD (kept after a store object goes: its
# connection closes whenever the garbage collector gets to it).
_IN_USE: set[str] = set()
_IN_USE_LOCK = threading.Lock()
_MLMD_SCHEMA_ROW = b"tableMLMDEnvMLMDEnv"
_SCHEMA_SCAN_BYTES = 256 * 1024


class MetadataStore:
    """A thread-safe MLMD connection whose calls retry while the database is busy.

    SQLite allows one writer at a time: two ``headrace run`` processes on one store see
    "database is locked" now and then, including while the store is opened. Transient errors
    (busy or locked, a schema another process is creating, a MySQL server restarting) are
    retried with jittered backoff, each for a bounded time (``busy_timeout`` for busy);
    anything else, corruption above all, fails at once as a :class:`MetadataError`.

    ``read_only`` opens an SQLite store without write access (inspection); ``upgrade`` lets
    MLMD migrate an older schema to this ml-metadata's (``headrace metadata upgrade``).
    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = 120.0,
        read_only: bool = False,
        upgrade: bool = False,
    ) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._type_ids: dict[tuple[str, str], int] = {}
        self._type_names: dict[int, str] = {}
        self._path = sqlite_path(url)
        self._shown = redact(url) if self._path is None else os.path.abspath(self._path)
        self._upgrade = upgrade
        self._broken = False
        existed = self._path is not None and os.path.exists(self._path)
        # A second store on one file in this process must not read the file itself (see
        # preflight_sqlite): the checks of its contents are for the first open only.
        first = self._path is not None and os.path.abspath(self._path) not in _IN_USE
        if self._path is not None and not read_only:
            preflight_sqlite(self._path, look_inside=first)
        try:
            self._config = connection_config(url)
        except OSError as e:
            raise MetadataError(
                f"cannot open metadata store {self._shown}: {e.strerror or e}"
                + (f": {e.filename}" if e.filename else "")
            ) from e
        if read_only and self._path is not None:
            self._config.sqlite.connection_mode = _SQLITE_READONLY
        try:
            if existed and first and not read_only:
                self._refuse_foreign()
            self._store = self._retry(self._open, store=False)
            if self._path is not None:
                with _IN_USE_LOCK:
                    _IN_USE.add(os.path.abspath(self._path))
        except MetadataError:
            raise
        except Exception as e:
            raise self._error(e) from e

    def _open(self) -> Any:
        from ml_metadata.metadata_store import metadata_store

        return metadata_store.MetadataStore(self._config, enable_upgrade_migration=self._upgrade)

    def _refuse_foreign(self) -> None:
        """MLMD adds its tables to any SQLite file it opens: open it read-only first, and
        when it has no MLMD schema, look at its tables (in a child process) before that."""
        from ml_metadata.metadata_store import metadata_store

        assert self._path is not None
        # The shortcut (a store opens in about 5 ms; the probe would double it): the schema
        # table's row for MLMDEnv ("table", name, table name) is in the file's first pages
        # once MLMD created its schema and SQLite checkpointed it.
        with open(self._path, "rb") as f:
            head = f.read(_SCHEMA_SCAN_BYTES)
        if _MLMD_SCHEMA_ROW in head:
            return
        if head[18:20] == b"\x02\x02":
            # WAL mode, as headrace makes its stores: one whose creation was killed may hold
            # its schema only in the -wal file, which a read-only connection cannot recover
            # (it reports the file "malformed"); the read-write open recovers it.
            return
        probe = type(self._config)()
        probe.CopyFrom(self._config)
        probe.sqlite.connection_mode = _SQLITE_READONLY
        try:
            metadata_store.MetadataStore(probe)
            return
        except Exception as e:
            kind = classify(e)
            if kind in (CORRUPT, NEWER) or (kind == OLDER and not self._upgrade):
                raise
            if kind in (OLDER, BUSY, FRESH):
                return  # the real open decides (an older schema is being upgraded)
        if is_foreign(inspect_sqlite(self._path)):
            raise MetadataError(
                f"{self._shown} is an SQLite database of something else (it has tables, none "
                "of ML Metadata's); headrace does not write into it. Give the path of a "
                "metadata store or a new file"
            )

    def _error(self, e: Exception) -> MetadataError:
        kind = classify(e)
        if kind == CORRUPT or (kind == FRESH and self._path is not None):
            return corrupt_error(self._shown, redact(self.url), e)
        if kind in (CONNECT, CONNECTION):
            return MetadataError(
                f"cannot reach metadata store {self._shown} ({cause(e)}; tried for "
                f"{_CONNECTION_WINDOW_S:.0f} s); is the server running and the URL right?"
            )
        if kind == FULL:
            return MetadataError(
                f"cannot open metadata store {self._shown}: the disk is full ({cause(e)}); "
                "free space where the store lives, then run again"
            )
        known = schema_error(self._shown, redact(self.url), e)
        if known is not None:
            return known
        return MetadataError(f"cannot open metadata store {self._shown}: {cause(e)}")

    def _window(self, kind: str | None) -> float | None:
        if kind == BUSY:
            return self.busy_timeout
        if kind == FRESH:
            return _FRESH_WINDOW_SQLITE_S if self._path is not None else _FRESH_WINDOW_MYSQL_S
        if kind in (CONNECT, CONNECTION):
            return _CONNECTION_WINDOW_S
        return None

    def _retry(self, fn: Callable[[], T], *, repeatable: bool = True, store: bool = True) -> T:
        """``fn()``, retried on transient errors. A connection lost during ``fn`` is retried
        only if ``repeatable`` (a read): a write may have committed before it broke. One that
        could not connect sent nothing, so every call repeats it. ``store``: ``fn`` uses
        ``self._store``, which is replaced after a connection error."""
        started = time.monotonic()
        delay = 0.01
        while True:
            reopening = store and self._broken
            try:
                if reopening:
                    self._store = self._open()
                    self._broken = False
                return fn()
            except Exception as e:
                kind = classify(e)
                if store and kind in (CONNECT, CONNECTION):
                    # MLMD's MySQL connection is unusable once it failed (the next call
                    # crashes the process): the next try opens a new one.
                    self._broken = True
                window = self._window(kind)
                if kind == CONNECTION and not repeatable and not reopening:
                    window = None
                if window is None or time.monotonic() - started > window:
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0 if kind in (CONNECT, CONNECTION) else 0.5)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``store.<method>(*args, **kwargs)`` under the lock, retried while busy."""
        # A write whose connection broke may or may not have committed: only reads repeat.
        reading = method.startswith("get_")
        with self._lock:
            try:
                return self._retry(
                    lambda: getattr(self._store, method)(*args, **kwargs), repeatable=reading
                )
            except Exception as e:
                kind = classify(e)
                if kind == CORRUPT:
                    raise corrupt_error(self._shown, redact(self.url), e) from e
                if kind == FULL:
                    raise MetadataError(
                        f"metadata store {self._shown}: the disk is full ({cause(e)}); free "
                        "space where the store lives, then run again"
                    ) from e
                if kind == CONNECTION and not reading:
                    raise MetadataError(
                        f"lost the connection to metadata store {self._shown} during "
                        f"{method} ({cause(e)}); it may or may not have been recorded: "
                        "run again (the next run reconciles what was recorded)"
                    ) from e
                if kind in (CONNECT, CONNECTION):
                    raise MetadataError(
                        f"cannot reach metadata store {self._shown} ({cause(e)}); is the "
                        "server running?"
                    ) from e
                raise

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
