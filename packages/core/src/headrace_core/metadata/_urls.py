"""Metadata URLs: parsing, redaction and the MLMD connection config they stand for."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from typing import Any

from headrace_core.metadata._credentials import conceal, concealed_password, credentials
from headrace_core.metadata._imports import import_ml_metadata
from headrace_core.metadata._names import MetadataError

__all__ = [
    "ENV_METADATA",
    "ENV_SQLITE_JOURNAL",
    "connection_config",
    "default_metadata_url",
    "pipeline_metadata_url",
    "redact",
    "sqlite_metadata_connection_config",
    "sqlite_path",
    "store_exists",
]


#: The store every command uses unless given --metadata.
ENV_METADATA = "HEADRACE_METADATA"


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
    """The store of a compiled pipeline: an explicit URL, else ``HEADRACE_METADATA`` (an
    operator's setting beats what the pipeline file says), else the pipeline's own, else
    SQLite in its root.

    The URL comes back without a password (:func:`conceal`): this process keeps it for its
    connections, so whatever prints or passes on the URL cannot leak it."""
    pipeline = document["pipeline"]
    url = (
        override
        or os.environ.get(ENV_METADATA, "").strip()
        or pipeline.get("metadata_connection_config")
        or default_metadata_url(pipeline["root"])
    )
    return conceal(url) or url


def default_metadata_url(pipeline_root: str) -> str:
    from headrace_core.layout import PipelineLayout

    return "sqlite:///" + PipelineLayout(pipeline_root).metadata_sqlite


def sqlite_metadata_connection_config(path: str) -> str:
    """TFX's helper name; returns the URL headrace pipelines take."""
    return "sqlite:///" + os.path.abspath(path)


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
    import_ml_metadata()
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
                f"metadata URL {redact(url)!r}: expected mysql://user@host:port/database"
            )
        config.mysql.host = parsed.hostname
        config.mysql.port = parsed.port or 3306
        config.mysql.database = parsed.path.strip("/")
        user, password = credentials(url)
        if user:
            config.mysql.user = user
        if password:
            config.mysql.password = password
        config.mysql.skip_db_creation = False
    else:
        raise MetadataError(
            f"unsupported metadata URL {redact(url)!r}: use sqlite:///path or "
            "mysql://user@host:port/database (password from HEADRACE_METADATA_PASSWORD)"
        )
    return config


def redact(url: str) -> str:
    """``url`` as it may be shown: ``mysql://user:***@host/db``, for a password in the URL
    or one this process concealed from it (so the reader sees that one is used)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None and concealed_password(url) is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))
