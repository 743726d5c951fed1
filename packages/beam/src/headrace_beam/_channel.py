"""How Beam steps report to the runner: small files under ``<root>/.headrace/runs/<run>/beam/``.

``running/<node>`` appears when a node starts executing; ``results/<node>.json`` holds its
outcome (the launcher's ``NodeResult`` as JSON, or ``not_run``). Every write is atomic (a
temporary name, then a rename), so a reader never sees half a file. Temporary names start with
a dot, which no node id does. The runner removes the channel when the run ends normally, and
keeps it, for a look, when the Beam pipeline failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from typing import Any

__all__ = [
    "launch_result_file",
    "listing",
    "mark_running",
    "read_result",
    "remove",
    "reset",
    "write_result",
]

_RUNNING = "running"
_RESULTS = "results"
_LAUNCH = "launch"


def reset(channel: str) -> None:
    """An empty channel: a rerun under the same run id must not see the last one's reports."""
    shutil.rmtree(channel, ignore_errors=True)
    for sub in (_RUNNING, _RESULTS, _LAUNCH):
        os.makedirs(os.path.join(channel, sub))


def remove(channel: str) -> None:
    """Remove the channel, and the run's folder when nothing else is in it."""
    shutil.rmtree(channel, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(channel))


def _write(path: str, text: str) -> None:
    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def mark_running(channel: str, node_id: str) -> None:
    _write(os.path.join(channel, _RUNNING, node_id), "")


def write_result(channel: str, node_id: str, result: Mapping[str, Any]) -> None:
    _write(os.path.join(channel, _RESULTS, f"{node_id}.json"), json.dumps(dict(result)))


def launch_result_file(channel: str, node_id: str) -> str:
    """Where ``python -m headrace_core.launch --result-file`` writes for this node."""
    return os.path.join(channel, _LAUNCH, f"{node_id}.json")


def listing(channel: str) -> tuple[set[str], set[str]] | None:
    """(nodes that started, result file names), or None before the channel exists."""
    try:
        # Results first: a node that reported a result had already marked itself running, so
        # the second listing sees that mark and its events come in order.
        results = set(os.listdir(os.path.join(channel, _RESULTS)))
        running = set(os.listdir(os.path.join(channel, _RUNNING)))
    except FileNotFoundError:
        return None
    return running, results


def read_result(channel: str, results: set[str], node_id: str) -> dict[str, Any] | None:
    name = f"{node_id}.json"
    if name not in results:
        return None
    with open(os.path.join(channel, _RESULTS, name), encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data
