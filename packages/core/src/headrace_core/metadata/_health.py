"""What kind of failure an MLMD error is, and the checks made before MLMD touches a file.

MLMD reports everything as a ``RuntimeError`` (or a status error) with text, so errors are
told apart by what they say. Only transient ones are retried; corruption never is: retrying
"retry the connection" on a store with a damaged schema page used to hang for two minutes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import Any

from headrace_core.metadata._names import MetadataError

__all__ = [
    "BUSY",
    "CONNECT",
    "CONNECTION",
    "CORRUPT",
    "FRESH",
    "FULL",
    "NEWER",
    "OLDER",
    "classify",
    "cause",
    "corrupt_error",
    "inspect_sqlite",
    "is_foreign",
    "preflight_sqlite",
    "schema_error",
    "schema_versions",
]

BUSY = "busy"  # another writer holds the database: wait for it
FRESH = "fresh"  # another process is creating MLMD's schema: MLMD says to retry
CONNECTION = "connection"  # the MySQL server went away mid-call: a write may have committed
CONNECT = "connect"  # no connection to the MySQL server (restarting?): nothing was sent
CORRUPT = "corrupt"
FULL = "full"  # no space left for the store's files
NEWER = "newer"
OLDER = "older"

_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        CORRUPT,
        (
            "file is not a database",
            "database disk image is malformed",
            "malformed database schema",
            "sqlite_corrupt",
            "sqlite_notadb",
        ),
    ),
    (FULL, ("database or disk is full", "sqlite_full", "no space left on device")),
    (NEWER, ("is greater than library version",)),
    (OLDER, ("is older than library version",)),
    (BUSY, ("database is locked", "database table is locked", "sqlite_busy", "deadlock")),
    (
        FRESH,
        ("retry the connection", "retry connection", "concurrent writes aborted"),
    ),
    (
        CONNECT,
        (
            "mysql_real_connect failed",
            "can't connect to mysql server",
            "can't connect to local mysql server",
            "can't connect to server",
        ),
    ),
    (CONNECTION, ("server has gone away", "lost connection to mysql server")),
)


def classify(error: BaseException) -> str | None:
    """The kind of ``error`` (one of the constants above), or None."""
    text = str(error).lower()
    for kind, needles in _KINDS:
        if any(n in text for n in needles):
            return kind
    return None


_VERSIONS = re.compile(r"database version (-?\d+) is \w+ than library version (-?\d+)")


def schema_versions(error: BaseException) -> tuple[int, int] | None:
    """(store's, library's) schema versions from MLMD's version-mismatch message."""
    m = _VERSIONS.search(str(error))
    return (int(m.group(1)), int(m.group(2))) if m else None


def schema_error(shown: str, url: str, error: BaseException) -> MetadataError | None:
    """A clear error for a store whose schema is newer or older than this ml-metadata's."""
    kind = classify(error)
    versions = schema_versions(error)
    got, want = versions if versions else ("?", "?")
    if kind == NEWER:
        return MetadataError(
            f"metadata store {shown} has schema version {got}, written by a newer ml-metadata "
            f"than this one (schema version {want}); upgrade ml-metadata where headrace runs "
            "(pip install -U ml-metadata) rather than downgrading the store"
        )
    if kind == OLDER:
        return MetadataError(
            f"metadata store {shown} has schema version {got}, older than this ml-metadata's "
            f"{want}; back the store up, then run: headrace metadata upgrade --metadata {url}"
        )
    return None


def cause(error: BaseException) -> str:
    """The first line of MLMD's message without the SQL statement it appends."""
    first = (str(error).splitlines() or [type(error).__name__])[0]
    first = first.removeprefix("Error when executing query: ").split(" query: ")[0]
    return first if len(first) <= 160 else first[:157] + "..."


def corrupt_error(shown: str, url: str, error: BaseException) -> MetadataError:
    return MetadataError(
        f"metadata store {shown} is damaged ({cause(error)}); restore it from a backup. "
        f"To see what is wrong: headrace metadata check --metadata {url}"
    )


_SQLITE_MAGIC = b"SQLite format 3\x00"
# A store another process is creating is 0 bytes for the moment between sqlite3 creating the
# file and writing its first page: wait this long before calling an empty file a lost store.
_EMPTY_GRACE_S = 2.0


def preflight_sqlite(path: str, *, look_inside: bool = True) -> None:
    """Refuse what MLMD would damage or fail on with a raw error: a 0-byte or foreign file, a
    read-only file or folder. A path that does not exist is fine (the store is created).

    ``look_inside=False`` when this process may already hold the store open through MLMD: the
    file is then never opened here, because closing any descriptor of a file drops every POSIX
    lock the process holds on it, MLMD's SQLite locks included (a WAL store is then damaged)."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise MetadataError(f"metadata store {path} is a directory; name a file")
    if not os.path.exists(path):
        existing = folder
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.access(existing, os.W_OK | os.X_OK):
            raise MetadataError(
                f"cannot create metadata store {path}: folder {existing} is not writable; "
                "make it writable or choose another --metadata / --pipeline-root"
            )
        return
    if not look_inside:
        deadline = time.monotonic()
    else:
        deadline = time.monotonic() + _EMPTY_GRACE_S
    while look_inside and os.path.getsize(path) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if look_inside and os.path.getsize(path) == 0:
        raise MetadataError(
            f"metadata store {path} is an empty (0-byte) file, not a store: its history is "
            "lost or it was truncated. Restore it from a backup, or move it away to start "
            "a new store; headrace does not overwrite it"
        )
    head = b""
    if look_inside:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC and len(head) == len(_SQLITE_MAGIC):
        raise MetadataError(
            f"{path} is not an SQLite database, so not a metadata store; "
            "give the path of the store (or a new file) as --metadata sqlite:///PATH"
        )
    if not os.access(path, os.R_OK | os.W_OK):
        raise MetadataError(
            f"metadata store {path} is read-only; make it writable (chmod u+w) to run, "
            "or read it with: headrace metadata check --metadata sqlite:///" + path.lstrip("/")
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MetadataError(
            f"folder {folder} of metadata store {path} is not writable (SQLite writes its "
            "journal beside the store); make it writable"
        )


_MLMD_TABLES = ("MLMDEnv", "Type", "Artifact", "Execution", "Context", "Event")

# Run in a separate interpreter: Python's sqlite3 must never open a file that MLMD's bundled
# SQLite holds in the same process (see _new_sqlite_store in _urls.py).
_INSPECT = r"""
import json, sqlite3, sys
out = {}
try:
    db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=30)
    out["tables"] = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    if "MLMDEnv" in out["tables"]:
        row = db.execute("SELECT schema_version FROM MLMDEnv").fetchone()
        out["schema_version"] = row[0] if row else None
    if sys.argv[2] == "1":
        out["integrity"] = [r[0] for r in db.execute("PRAGMA integrity_check(20)")]
    db.close()
except sqlite3.Error as e:
    out["error"] = str(e)
print(json.dumps(out))
"""


def inspect_sqlite(path: str, *, integrity: bool = False, timeout: float = 300.0) -> dict[str, Any]:
    """Tables, MLMD schema version and (``integrity``) ``PRAGMA integrity_check`` of an SQLite
    file, read-only, in a child process. Keys: tables, schema_version, integrity, error."""
    proc = subprocess.run(
        [sys.executable, "-c", _INSPECT, os.path.abspath(path), "1" if integrity else "0"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    try:
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        result = {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return result


def is_foreign(info: dict[str, Any]) -> bool:
    """An SQLite database with tables, none of them MLMD's (a new store has no tables)."""
    tables = set(info.get("tables") or ())
    return bool(tables) and not tables & set(_MLMD_TABLES)
