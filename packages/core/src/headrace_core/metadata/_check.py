"""``headrace metadata check`` and ``upgrade``: a store's health and its schema migration."""

from __future__ import annotations

import os
from typing import Any

from headrace_core.metadata._health import (
    OLDER,
    classify,
    inspect_sqlite,
    is_foreign,
    schema_versions,
)
from headrace_core.metadata._names import MetadataError
from headrace_core.metadata._store import MetadataStore
from headrace_core.metadata._urls import redact, sqlite_path

__all__ = ["check_store", "upgrade_store"]

_RUNNING = 2  # Execution.State.RUNNING


def check_store(url: str) -> dict[str, Any]:
    """What is in the store at ``url`` and what is wrong with it, opening SQLite read-only.

    Keys: store, schema_version (None when unknown), executions, artifacts, contexts,
    running (ids of RUNNING executions), integrity (SQLite), problems (empty when healthy).
    """
    path = sqlite_path(url)
    report: dict[str, Any] = {
        "store": redact(url) if path is None else os.path.abspath(path),
        "schema_version": None,
        "problems": [],
    }
    problems: list[str] = report["problems"]
    if path is not None:
        if not os.path.isfile(path):
            problems.append(f"no store file at {os.path.abspath(path)}")
            return report
        if os.path.getsize(path) == 0:
            problems.append("the file is empty (0 bytes): restore the store from a backup")
            return report
        # Integrity first and in a child process: the check reads every page, and Python's
        # sqlite3 must not share a process with MLMD's SQLite on one file.
        info = inspect_sqlite(path, integrity=True)
        report["schema_version"] = info.get("schema_version")
        report["integrity"] = info.get("integrity")
        if info.get("error"):
            problems.append(f"SQLite cannot read it: {info['error']}")
        elif info.get("integrity") != ["ok"]:
            problems.append(
                "PRAGMA integrity_check found damage: "
                + "; ".join(info.get("integrity") or [])[:500]
                + " (restore the store from a backup)"
            )
        if is_foreign(info):
            problems.append("an SQLite database without ML Metadata's tables")
        if problems:
            return report
    try:
        store = MetadataStore(url, read_only=path is not None)
        executions = store.call("get_executions")
        report["executions"] = len(executions)
        report["artifacts"] = len(store.call("get_artifacts"))
        report["contexts"] = len(store.call("get_contexts"))
        report["running"] = [e.id for e in executions if e.last_known_state == _RUNNING]
    except MetadataError as e:
        problems.append(str(e))
        versions = schema_versions(e.__cause__) if e.__cause__ else None
        if versions:
            report["schema_version"] = versions[0]
        return report
    report.setdefault("schema_version", None)
    # Opened without migration: the store's schema is this ml-metadata's.
    report["schema_current"] = True
    return report


def upgrade_store(url: str) -> tuple[int | None, int | None]:
    """Migrate the store's schema to this ml-metadata's; (from, to) versions, None where
    the store does not say (a MySQL store that is already current)."""
    path = sqlite_path(url)

    def version() -> int | None:
        if path is None:
            return None
        found = inspect_sqlite(path).get("schema_version")
        return int(found) if isinstance(found, int) else None

    before = version()
    try:
        MetadataStore(url)
        return before, before
    except MetadataError as e:
        cause = e.__cause__
        if cause is None or classify(cause) != OLDER:
            raise
        versions = schema_versions(cause)
    MetadataStore(url, upgrade=True)
    after = version()
    if versions:
        before = versions[0] if before is None else before
        after = versions[1] if after is None else after
    return before, after
