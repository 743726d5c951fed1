"""The store's invariants: what no run, finished, failed or killed at any moment, may leave.

Chaos and concurrency tests check them after every run (``headrace_core.testing`` exports
:func:`store_problems` and :func:`assert_store_consistent`). Always:

- every LIVE artifact has exactly one OUTPUT event, from a COMPLETE execution, and its files
  exist (local URIs);
- every COMPLETE execution's OUTPUT artifacts are LIVE, or DELETED by garbage collection
  (whose files may be gone).

After a run that completed (``settled``), also: no execution is RUNNING, no marker of a
running launch is left, and nothing unpublished lies at a final output path (a folder under
``<root>/<node>/<key>/`` named like an execution that no LIVE artifact owns, or a staging
folder). Only folders of nodes the store knows are judged: anything else under the root (a
serving folder a pusher writes, say) is not the runtime's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from headrace_core.layout import PipelineLayout
from headrace_core.metadata import EVENT_OUTPUT, MetadataStore, custom

__all__ = ["assert_store_consistent", "store_problems"]

# MLMD's enums (Execution.State, Artifact.State), spelled out: the kit reads the store as is.
_RUNNING, _COMPLETE = 2, 3
_LIVE, _DELETED = 2, 4
_STATE_NAMES = {0: "UNKNOWN", 1: "NEW", 2: "RUNNING", 3: "COMPLETE", 4: "FAILED"}
_STATE_NAMES.update({5: "CACHED", 6: "CANCELED"})
_STAGING = ".staging"


def _state(execution: Any) -> str:
    status = custom(execution, "status")
    name = _STATE_NAMES.get(execution.last_known_state, str(execution.last_known_state))
    return f"{name} ({status})" if status else name


def _lineage_problems(
    executions: dict[int, Any], artifacts: dict[int, Any], events: Any
) -> list[str]:
    producers: dict[int, list[int]] = {}
    for event in events:
        if event.type == EVENT_OUTPUT:
            producers.setdefault(event.artifact_id, []).append(event.execution_id)
    problems = []
    for artifact in artifacts.values():
        if artifact.state != _LIVE:
            continue
        made_by = producers.get(artifact.id, [])
        if len(made_by) != 1:
            problems.append(
                f"LIVE artifact {artifact.id} ({artifact.uri}) has {len(made_by)} OUTPUT events "
                f"(executions {sorted(made_by)}), not one"
            )
        for execution_id in made_by:
            producer = executions[execution_id]
            if producer.last_known_state != _COMPLETE:
                problems.append(
                    f"LIVE artifact {artifact.id} ({artifact.uri}) was output by execution "
                    f"{producer.id}, which is {_state(producer)}, not COMPLETE"
                )
        if "://" not in artifact.uri and not os.path.exists(artifact.uri):
            problems.append(f"LIVE artifact {artifact.id}: its files {artifact.uri} are missing")
    for artifact_id, made_by in sorted(producers.items()):
        state = artifacts[artifact_id].state
        for execution_id in made_by:
            if executions[execution_id].last_known_state == _COMPLETE and state not in (
                _LIVE,
                _DELETED,
            ):
                problems.append(
                    f"COMPLETE execution {execution_id} output artifact {artifact_id} "
                    f"({artifacts[artifact_id].uri}), which is in state {state}, not LIVE "
                    "or DELETED"
                )
    return problems


def _owned(path: str, live_uris: set[str]) -> bool:
    # An output key with several artifacts keeps them under <execution>/<index>.
    return path in live_uris or any(uri.startswith(path + os.sep) for uri in live_uris)


def _unpublished(layout: PipelineLayout, node_ids: set[str], live_uris: set[str]) -> list[str]:
    found = []
    for node_id in sorted(node_ids):
        node_dir = Path(layout.root, node_id)
        if node_id.startswith(".") or not node_dir.is_dir():
            continue
        for key_dir in sorted(p for p in node_dir.iterdir() if p.is_dir()):
            for entry in sorted(key_dir.iterdir()):
                staging = entry.name.endswith(_STAGING)
                number = entry.name[: -len(_STAGING)] if staging else entry.name
                if not number.isdigit():
                    continue
                if staging:
                    found.append(f"staging folder {entry} left behind")
                elif not _owned(os.path.normpath(entry), live_uris):
                    found.append(f"{entry} is at a final output path but no LIVE artifact owns it")
    return found


def _settled_problems(
    layout: PipelineLayout, executions: dict[int, Any], artifacts: dict[int, Any]
) -> list[str]:
    problems = [
        f"execution {e.id} of node {custom(e, 'node_id')} is still RUNNING"
        for e in executions.values()
        if e.last_known_state == _RUNNING
    ]
    markers = Path(layout.private, "running")
    if markers.is_dir():
        problems += [
            f"marker {p} of a running launch is left" for p in sorted(markers.rglob("*.json"))
        ]
    node_ids = {
        n for n in (custom(e, "node_id") for e in executions.values()) if isinstance(n, str)
    }
    live = {os.path.normpath(a.uri) for a in artifacts.values() if a.state == _LIVE}
    return problems + _unpublished(layout, node_ids, live)


def store_problems(
    store: MetadataStore, root: str | os.PathLike[str] | None = None, *, settled: bool = False
) -> list[str]:
    """Every broken invariant of ``store`` and the pipeline root ``root``, one line each
    (empty when all hold); ``settled`` for the stricter checks after a run that completed,
    which read the root's folders (and so need it)."""
    executions = {e.id: e for e in store.call("get_executions")}
    artifacts = {a.id: a for a in store.call("get_artifacts")}
    problems = _lineage_problems(executions, artifacts, store.events(executions))
    if settled:
        if root is None:
            raise ValueError("store_problems(settled=True) needs the pipeline root")
        problems += _settled_problems(PipelineLayout(os.fspath(root)), executions, artifacts)
    return problems


def assert_store_consistent(
    store: MetadataStore, root: str | os.PathLike[str] | None = None, *, settled: bool = False
) -> None:
    """Raise ``AssertionError`` listing every problem :func:`store_problems` finds."""
    problems = store_problems(store, root, settled=settled)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        where = f" (pipeline root {root})" if root is not None else ""
        raise AssertionError(f"{len(problems)} broken store invariant(s){where}:\n{listed}")
