"""ML Metadata: connection by URL, type registration, contexts and busy-retrying calls.

``sqlite:///path/metadata.sqlite`` (the embedded default, ``<pipeline_root>/metadata.sqlite``)
or ``mysql://user:password@host:port/database``. ``ml_metadata`` is imported only when a store
is opened, so defining and compiling pipelines stays fast.

Layout in MLMD:

- context types ``headrace.pipeline`` (name: pipeline name), ``headrace.pipeline_run``
  (``<pipeline>:<run_id>``), ``headrace.node`` (``<pipeline>:<node_id>``) and ``headrace.cache``
  (the cache key): every lookup the launcher makes goes through a context found by its unique
  (type, name) pair, so it costs the same with ten runs in the store as with ten thousand;
- one execution type per node type, one artifact type per artifact type;
- INPUT and OUTPUT events with the key and index as path steps (an input artifact under several
  keys: one event, a key and index pair per place; :func:`event_paths`). A node that reuses existing
  artifacts (a cache hit, a resolver, an importer finding its artifact) links them with
  INTERNAL_OUTPUT, so OUTPUT always names the execution that really produced an artifact.
"""

from __future__ import annotations

import importlib
import os
import random
import sys
import threading
import time
import types
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from headrace_core.artifacts import Artifact, ArtifactState, PropertyType
from headrace_core.errors import HeadraceError

__all__ = [
    "CACHE_CONTEXT",
    "MetadataError",
    "MetadataStore",
    "NODE_CONTEXT",
    "PIPELINE_CONTEXT",
    "RUN_CONTEXT",
    "connection_config",
    "default_metadata_url",
    "event_paths",
    "node_context_name",
    "pipeline_metadata_url",
    "run_context_name",
    "sqlite_metadata_connection_config",
    "sqlite_path",
    "store_exists",
]

# MLMD Event.Type values, named here so readers of the store need not import ml_metadata.
EVENT_INPUT = 3
EVENT_OUTPUT = 4
EVENT_INTERNAL_OUTPUT = 6

PIPELINE_CONTEXT = "headrace.pipeline"
RUN_CONTEXT = "headrace.pipeline_run"
NODE_CONTEXT = "headrace.node"
CACHE_CONTEXT = "headrace.cache"

T = TypeVar("T")


class MetadataError(HeadraceError):
    """The metadata store cannot be reached or refused an operation."""


def node_context_name(pipeline: str, node_id: str) -> str:
    # ':' appears in neither pipeline names nor node ids, so names never collide.
    return f"{pipeline}:{node_id}"


def run_context_name(pipeline: str, run_id: str) -> str:
    return f"{pipeline}:{run_id}"


def sqlite_path(url: str) -> str | None:
    """The file an ``sqlite://`` URL names, or None for other stores."""
    if not url.startswith("sqlite://"):
        return None
    path = url[len("sqlite://") :]
    return "/" + path.lstrip("/") if path.startswith("/") else path


def store_exists(url: str) -> bool:
    """False only for an SQLite store whose file does not exist yet (nothing has run)."""
    path = sqlite_path(url)
    return path is None or os.path.exists(path)


def pipeline_metadata_url(document: Mapping[str, Any], override: str | None = None) -> str:
    """The store of a compiled pipeline: an explicit URL, else the pipeline's own, else SQLite
    in its root."""
    pipeline = document["pipeline"]
    return (
        override
        or pipeline.get("metadata_connection_config")
        or default_metadata_url(pipeline["root"])
    )


def default_metadata_url(pipeline_root: str) -> str:
    from headrace_core.layout import PipelineLayout

    return "sqlite:///" + PipelineLayout(pipeline_root).metadata_sqlite


def sqlite_metadata_connection_config(path: str) -> str:
    """TFX's helper name; returns the URL headrace pipelines take."""
    return "sqlite:///" + os.path.abspath(path)


class _DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is read, then imports the real one
    (through the import system, so with its locks) and hands every attribute over from it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._real: types.ModuleType | None = None
        self._lock = threading.Lock()

    def __getattr__(self, attr: str) -> Any:  # only for what the stand-in itself lacks
        if self._real is None:
            with self._lock:
                if self._real is None:
                    if sys.modules.get(self.__name__) is self:
                        del sys.modules[self.__name__]
                    self._real = importlib.import_module(self.__name__)
        return getattr(self._real, attr)


_IMPORT_LOCK = threading.Lock()


def _import_ml_metadata() -> None:
    """Import ``ml_metadata`` without importing ``grpc`` (about 40 ms).

    ``ml_metadata``'s package imports its gRPC client module, which binds ``grpc`` at import but
    uses it only to talk to an MLMD server (``MetadataStoreClientConfig``); SQLite and MySQL
    stores go through the bundled C++ library. So ``grpc`` is a :class:`_DeferredModule` while
    ``ml_metadata`` is imported, and leaves ``sys.modules`` right after: ``ml_metadata`` keeps
    the stand-in, which imports the real ``grpc`` on first use, and everyone else importing
    ``grpc`` gets the real module as usual.
    """
    if "ml_metadata" in sys.modules or "grpc" in sys.modules:
        return
    with _IMPORT_LOCK:
        if "ml_metadata" in sys.modules or "grpc" in sys.modules:
            return
        stand_in = _DeferredModule("grpc")
        sys.modules["grpc"] = stand_in
        try:
            import ml_metadata  # noqa: F401
        finally:
            if sys.modules.get("grpc") is stand_in:
                del sys.modules["grpc"]


ENV_SQLITE_JOURNAL = "HEADRACE_SQLITE_JOURNAL"


def _new_sqlite_store(path: str) -> None:
    """Make a new SQLite store a WAL database (``HEADRACE_SQLITE_JOURNAL=delete``: the rollback
    journal, for a pipeline root on a network file system, where WAL does not work).

    In WAL mode a commit is one append and one fsync of the ``-wal`` file instead of a rollback
    journal's four fsyncs, and readers never block the writer. MLMD cannot set it (it takes no
    pragmas), but the mode is stored in the database file and every later connection, MLMD's
    bundled SQLite included, uses it. It is set only while the file does not exist yet, with
    Python's sqlite3 closed again before MLMD opens the file: two SQLite libraries must never
    hold one database open in one process (POSIX locks are per process, so closing either
    drops the other's locks, and a WAL database's shared-memory locks with them).
    """
    if os.path.exists(path) or os.environ.get(ENV_SQLITE_JOURNAL, "wal").strip().lower() != "wal":
        return
    import sqlite3

    try:
        db = sqlite3.connect(path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
        finally:
            db.close()
    except sqlite3.Error:
        pass  # another process is making the store: MLMD opens it as that process left it


def connection_config(url: str) -> Any:
    """An MLMD ``ConnectionConfig`` for ``url``."""
    _import_ml_metadata()
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///abs/path (and SQLAlchemy's sqlite:////abs/path) are absolute;
        # sqlite://rel/path is relative to the working directory.
        path = sqlite_path(url) or ""
        if not path.strip("/"):
            raise MetadataError(f"metadata URL {url!r} names no file")
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        _new_sqlite_store(os.path.abspath(path))
        config.sqlite.filename_uri = os.path.abspath(path)
        config.sqlite.connection_mode = (
            metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        )
    elif parsed.scheme in ("mysql", "mariadb"):
        if not parsed.hostname or not parsed.path.strip("/"):
            raise MetadataError(
                f"metadata URL {_redact(url)!r}: expected mysql://user:password@host:port/database"
            )
        config.mysql.host = parsed.hostname
        config.mysql.port = parsed.port or 3306
        config.mysql.database = parsed.path.strip("/")
        if parsed.username:
            config.mysql.user = urllib.parse.unquote(parsed.username)
        if parsed.password:
            config.mysql.password = urllib.parse.unquote(parsed.password)
        config.mysql.skip_db_creation = False
    else:
        raise MetadataError(
            f"unsupported metadata URL {_redact(url)!r}: use sqlite:///path or "
            "mysql://user:password@host:port/database"
        )
    return config


def _redact(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


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
            raise MetadataError(f"cannot open metadata store {_redact(url)}: {e}") from e

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


# Values ------------------------------------------------------------------------------------


def set_value(value_proto: Any, value: Any) -> None:
    """Set an MLMD ``Value`` from a Python int, float, str or bool."""
    if isinstance(value, bool):
        value_proto.int_value = int(value)
    elif isinstance(value, int):
        value_proto.int_value = value
    elif isinstance(value, float):
        value_proto.double_value = value
    else:
        value_proto.string_value = str(value)


def get_value(value_proto: Any) -> Any:
    kind = value_proto.WhichOneof("value")
    if kind == "int_value":
        return value_proto.int_value
    if kind == "double_value":
        return value_proto.double_value
    if kind == "string_value":
        return value_proto.string_value
    if kind == "bool_value":
        return int(value_proto.bool_value)
    return None


def event_paths(event: Any) -> list[tuple[str, int]]:
    """The (key, index) places an event links its artifact to: usually one."""
    steps = list(event.path.steps)
    return [
        (steps[i].key, steps[i + 1].index if i + 1 < len(steps) else 0)
        for i in range(0, len(steps), 2)
    ]


def custom(proto: Any, key: str, default: Any = None) -> Any:
    if key in proto.custom_properties:
        return get_value(proto.custom_properties[key])
    return default


_STATE_TO_PB = {
    ArtifactState.UNKNOWN: 0,
    ArtifactState.PENDING: 1,
    ArtifactState.LIVE: 2,
    ArtifactState.MARKED_FOR_DELETION: 3,
    ArtifactState.DELETED: 4,
    ArtifactState.ABANDONED: 5,
    ArtifactState.REFERENCE: 6,
}
_PB_TO_STATE = {v: k for k, v in _STATE_TO_PB.items()}


def artifact_to_proto(artifact: Artifact, type_id: int) -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    proto = pb.Artifact(type_id=type_id, uri=artifact.uri, state=_STATE_TO_PB[artifact.state])
    if artifact.id is not None:
        proto.id = artifact.id
    for key, value in artifact.properties.items():
        set_value(proto.properties[key], value)
    for key, value in artifact.custom_properties.items():
        set_value(proto.custom_properties[key], value)
    return proto


def artifact_from_proto(proto: Any, cls: type[Artifact]) -> Artifact:
    declared = cls.PROPERTIES
    props: dict[str, Any] = {}
    for key, value in proto.properties.items():
        v = get_value(value)
        if key in declared and v is not None:
            props[key] = float(v) if declared[key] is PropertyType.DOUBLE else v
    customs = {k: get_value(v) for k, v in proto.custom_properties.items()}
    artifact = cls(
        proto.uri,
        id=proto.id,
        state=_PB_TO_STATE.get(proto.state, ArtifactState.UNKNOWN),
        properties=props,
        custom_properties={k: v for k, v in customs.items() if v is not None},
    )
    return artifact
