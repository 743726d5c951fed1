"""The metadata stores tests run on: SQLite in the pipeline root, or a fresh database on a
MariaDB/MySQL server named by ``HEADRACE_TEST_MYSQL`` (``tools/test`` starts one).

A suite runs on MariaDB with ``pytest --metadata-backend=mariadb`` (or
``HEADRACE_TEST_BACKEND=mariadb``): every test then gets its own database, named by
``HEADRACE_METADATA``, which ``headrace run``, the inspection commands and the node entry point
read, so CLI subprocesses use it too.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import urllib.parse

__all__ = [
    "BACKENDS",
    "ENV_REQUIRE_MYSQL",
    "ENV_TEST_BACKEND",
    "ENV_TEST_MYSQL",
    "mysql_required",
    "mysql_unavailable",
    "new_mysql_database_url",
    "store_url",
]

#: The server (no database) the MariaDB tests use: ``mysql://root@127.0.0.1:PORT``.
ENV_TEST_MYSQL = "HEADRACE_TEST_MYSQL"
#: Set (as CI is), a test that needs MariaDB fails instead of skipping when there is none.
ENV_REQUIRE_MYSQL = "HEADRACE_REQUIRE_MYSQL"
#: The default of ``--metadata-backend``.
ENV_TEST_BACKEND = "HEADRACE_TEST_BACKEND"

BACKENDS = ("sqlite", "mariadb")

_counter = itertools.count()


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def mysql_required() -> bool:
    """Whether a missing test server is a failure: in CI, or where asked for."""
    return _flag("CI") or _flag(ENV_REQUIRE_MYSQL)


def mysql_unavailable() -> str | None:
    """Why there is no MariaDB server for the tests, or None when there is one."""
    server = os.environ.get(ENV_TEST_MYSQL, "").strip()
    if not server:
        return (
            f"{ENV_TEST_MYSQL} is not set: no MariaDB/MySQL server for the tests. tools/test "
            f"starts one where mariadb-server is installed; or set "
            f"{ENV_TEST_MYSQL}=mysql://root@127.0.0.1:PORT"
        )
    parsed = urllib.parse.urlparse(server)
    if parsed.scheme not in ("mysql", "mariadb") or not parsed.hostname:
        return f"{ENV_TEST_MYSQL}={server!r}: expected mysql://user[:password]@host[:port]"
    return None


def new_mysql_database_url(label: str = "") -> str:
    """A URL of a database no test has used, on the ``HEADRACE_TEST_MYSQL`` server; MLMD
    creates it on first connect. ``label`` (a test name) is kept in the name, for finding a
    failed test's database on the server."""
    reason = mysql_unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    parsed = urllib.parse.urlparse(os.environ[ENV_TEST_MYSQL].strip())
    # MySQL allows 64 characters; MLMD does not quote the name, so letters, digits and _ only.
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:32]
    unique = f"{os.getpid()}_{next(_counter)}_{secrets.token_hex(3)}"
    name = f"hrt_{slug}_{unique}" if slug else f"hrt_{unique}"
    return urllib.parse.urlunparse(parsed._replace(path="/" + name, query="", fragment=""))


def store_url(pipeline_root: str | os.PathLike[str]) -> str:
    """The store a run of ``pipeline_root`` uses here: ``HEADRACE_METADATA`` when set (a suite
    running on MariaDB sets it), else SQLite in the root."""
    from headrace_core.metadata import ENV_METADATA, default_metadata_url

    return os.environ.get(ENV_METADATA, "").strip() or default_metadata_url(
        os.fspath(pipeline_root)
    )
