"""Exactly-once work under concurrency: the RUNNING execution is the claim on its cache key.

Two runs that reach one cache key at once must not both do the work (two trainings, two
pushes). An execution that starts work is named ``<cache key>#<attempt>`` and joins the cache
key's context in the same MLMD transaction; MLMD refuses a second execution of one type with
one name (a unique index, on SQLite and MySQL alike), so of two launches trying one attempt
exactly one commits. The other finds the winner in the cache context and waits: when the
winner completes, its outputs are a cache hit; when it fails, or its process is gone, the next
attempt is claimed. The claim adds no write of its own: name and context ride on the RUNNING
put, and a heartbeat is written only by nodes that run longer than its interval.

A RUNNING attempt's owner is alive while its process exists (same host) and its heartbeat is
fresh (any host: a host's pids mean nothing on another).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from headrace_core.metadata import custom, set_value
from headrace_core.runtime._publish import discard_unfinished, remove_marker
from headrace_core.runtime._records import STATE
from headrace_core.runtime._session import RunSession

__all__ = [
    "ENV_HEARTBEAT",
    "attempt_name",
    "heartbeat",
    "next_attempt",
    "owner_dead",
    "pid_alive",
    "reap_orphans",
    "wait_for_owner",
]

#: Seconds between heartbeats of a running execution; an owner silent for six is dead.
ENV_HEARTBEAT = "HEADRACE_HEARTBEAT_SECONDS"
_DEFAULT_HEARTBEAT = 10.0
_STALE_BEATS = 6


def heartbeat_seconds() -> float:
    try:
        value = float(os.environ.get(ENV_HEARTBEAT, _DEFAULT_HEARTBEAT))
    except ValueError:
        value = _DEFAULT_HEARTBEAT
    return max(value, 0.05)


def attempt_name(key: str, attempt: int) -> str:
    return f"{key}#{attempt}"


def _attempt_of(execution: Any) -> int | None:
    name = getattr(execution, "name", "") or ""
    _, sep, tail = name.rpartition("#")
    return int(tail) if sep and tail.isdigit() else None


def next_attempt(attempts: list[Any]) -> int:
    """The attempt after the newest one recorded under the key (0 for none)."""
    numbers = [n for n in (_attempt_of(e) for e in attempts) if n is not None]
    return max(numbers, default=-1) + 1


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie answers signals but runs nothing: a node whose parent was killed stays one
    # until something reaps it, and its execution is as dead as if it had gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def owner_dead(execution: Any, now: float | None = None) -> bool:
    """Whether the process that claimed a RUNNING ``execution`` is gone."""
    pid, host = custom(execution, "pid"), custom(execution, "host")
    if host == socket.gethostname() and isinstance(pid, int):
        # The process table is the truth here; a heartbeat can lag behind a busy process.
        return not pid_alive(pid)
    beat = custom(execution, "heartbeat_at")
    if not isinstance(beat, (int, float)):
        # Never beat: judged by when it started (MLMD keeps milliseconds).
        beat = execution.create_time_since_epoch / 1000.0
    return bool((now or time.time()) - float(beat) > _STALE_BEATS * heartbeat_seconds())


def abandon(session: RunSession, node: Mapping[str, Any], executions: list[Any]) -> None:
    """Record RUNNING ``executions`` of ``node`` whose owner is gone as abandoned, and remove
    what they staged or renamed into place without publishing."""
    if not executions:
        return
    first = executions[0]
    session.abandon(
        [e.id for e in executions],
        "abandoned: the process running it died or stopped beating "
        f"(pid {custom(first, 'pid')} on {custom(first, 'host')})",
    )
    for execution in executions:
        discard_unfinished(session, node, execution.id)


def _live_owner(session: RunSession, node: Mapping[str, Any], attempts: list[Any]) -> Any | None:
    """The attempt still running under the key, after recording dead ones as abandoned."""
    running = [e for e in attempts if e.last_known_state == STATE["RUNNING"]]
    dead = [e for e in running if owner_dead(e)]
    abandon(session, node, dead)
    return next((e for e in running if e not in dead), None)


def wait_for_owner(
    session: RunSession,
    node: Mapping[str, Any],
    key: str,
    attempts: list[Any],
    on_wait: Callable[[Any], None],
) -> list[Any]:
    """Wait while another process runs ``key``; returns the key's attempts once none runs."""
    delay = 0.05
    while True:
        owner = _live_owner(session, node, attempts)
        if owner is None:
            return attempts
        on_wait(owner)
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
        attempts = session.attempts(key)


@contextlib.contextmanager
def heartbeat(session: RunSession, execution: Any) -> Iterator[None]:
    """Beat for ``execution`` while the block runs; stopped (and joined) before it returns,
    so no beat can land after the execution's final state."""
    interval = heartbeat_seconds()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            update = copy.deepcopy(execution)
            set_value(update.custom_properties["heartbeat_at"], time.time())
            with contextlib.suppress(Exception):  # a missed beat is retried on the next one
                session.store.call("put_executions", [update])

    thread = threading.Thread(target=beat, name="headrace-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _marked_execution(session: RunSession, directory: str, name: str) -> tuple[Any, dict[str, Any]]:
    with open(os.path.join(directory, name), encoding="utf-8") as f:
        owner = json.load(f)
    if owner.get("name"):
        found = session.store.call("get_execution_by_type_and_name", owner["type"], owner["name"])
        return found, owner
    # A marker from before claims were named: ``<execution id>.json``, written after the commit.
    found = session.store.call("get_executions_by_id", [int(name.split(".", 1)[0])])
    return (found[0] if found else None), owner


def reap_orphans(session: RunSession, node: Mapping[str, Any]) -> None:
    """Record RUNNING executions of this node whose process died as abandoned.

    Every launch that may claim an execution leaves a marker file first, until it finishes;
    normally there is none, and this costs one directory listing, whatever the history in the
    store. (MLMD has no index on execution state: a query for RUNNING executions grows with
    the whole store.) A marker whose claim never committed names no execution and just goes.
    """
    directory = session.layout.markers(node["id"])
    try:
        markers = os.listdir(directory)
    except FileNotFoundError:
        return
    host = socket.gethostname()
    for name in markers:
        try:
            execution, owner = _marked_execution(session, directory, name)
        except (ValueError, OSError):
            continue
        pid = owner.get("pid")
        here = owner.get("host") == host and isinstance(pid, int)
        if here and isinstance(pid, int) and pid_alive(pid):
            continue
        if execution is not None and execution.last_known_state == STATE["RUNNING"]:
            if not here and not owner_dead(execution):
                continue  # another host's launch, still beating
            abandon(session, node, [execution])
        elif execution is None and not here:
            continue  # another host's launch that has not committed its claim yet
        remove_marker(session, node["id"], name.rsplit(".", 1)[0])
