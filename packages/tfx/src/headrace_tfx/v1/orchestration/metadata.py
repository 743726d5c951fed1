"""``tfx.v1.orchestration.metadata``: TFX's helpers for a pipeline's
``metadata_connection_config``, as headrace's store URLs."""

from __future__ import annotations

from urllib.parse import quote

from headrace_core.metadata import sqlite_metadata_connection_config

__all__ = ["mysql_metadata_connection_config", "sqlite_metadata_connection_config"]


def mysql_metadata_connection_config(
    host: str, port: int, database: str, username: str, password: str = ""
) -> str:
    """A MySQL (or MariaDB) store: ``mysql://username@host:port/database``.

    A password given here is kept out of the IR, compiled DAGs, logs and command lines (see
    docs/metadata-credentials.md); better, leave it out and give it through
    ``HEADRACE_METADATA_PASSWORD`` or a password file.
    """
    user = quote(username, safe="")
    secret = f":{quote(password, safe='')}" if password else ""
    return f"mysql://{user}{secret}@{host}:{int(port)}/{quote(database, safe='')}"
