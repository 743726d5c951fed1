"""Staging and publishing outputs; marker files; reaping executions whose process died.

An executor writes into ``<node>/<key>/<execution>.staging/``. Only after it succeeded and
every required output is non-empty are the staging folders renamed to their final paths, and
the artifacts become LIVE together with the COMPLETE execution in one MLMD transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
from collections.abc import Mapping
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.artifacts import ArtifactState
from headrace_core.runtime._inputs import Outputs
from headrace_core.runtime._session import RunSession
from headrace_core.runtime._types import LaunchError

__all__ = [
    "check_outputs",
    "discard_staging",
    "publish",
    "reap_orphans",
    "remove_marker",
    "stage_outputs",
    "write_marker",
]


def _pid_alive(pid: int) -> bool:
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


def _is_empty(uri: str) -> bool:
    if not os.path.exists(uri):
        return True
    if os.path.isfile(uri):
        return False
    return not any(files for _, _, files in os.walk(uri))


def stage_outputs(
    session: RunSession,
    node: Mapping[str, Any],
    execution_id: int,
    output_properties: Mapping[str, Mapping[str, Any]],
) -> Outputs:
    """A fresh, empty staging folder and an artifact for every declared output."""
    outputs: Outputs = {}
    for key, declared in node.get("outputs", {}).items():
        staging = session.layout.staging(node["id"], key, execution_id)
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        artifact = session.artifact_class(declared["type"])(staging)
        for prop, value in output_properties.get(key, {}).items():
            artifact.set_property(prop, value)
        outputs[key] = [artifact]
    return outputs


def check_outputs(node: Mapping[str, Any], outputs: Outputs) -> None:
    """Refuse to publish a required output the executor left empty."""
    for key, declared in node.get("outputs", {}).items():
        if declared.get("optional") or declared.get("allow_empty"):
            continue
        if all(_is_empty(a.uri) for a in outputs[key]):
            raise LaunchError(
                f"node {node['id']!r} produced an empty output {key!r}: the executor wrote "
                f"nothing to {outputs[key][0].uri}"
            )


def discard_staging(session: RunSession, node: Mapping[str, Any], execution_id: int) -> None:
    """Remove what a failed or abandoned execution staged, and its scratch space."""
    shutil.rmtree(session.layout.tmp(execution_id), ignore_errors=True)
    for key in node.get("outputs", {}):
        shutil.rmtree(session.layout.staging(node["id"], key, execution_id), ignore_errors=True)


def publish(
    session: RunSession,
    node: Mapping[str, Any],
    execution: Any,
    outputs: Outputs,
    cache_key: str,
) -> None:
    """Rename staged outputs into place, then make them LIVE with the COMPLETE execution in
    one transaction."""
    node_id = node["id"]
    for key, artifacts in outputs.items():
        for index, artifact in enumerate(artifacts):
            target = session.layout.output(
                node_id, key, execution.id, index if len(artifacts) > 1 else None
            )
            if os.path.exists(target):
                shutil.rmtree(target)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if artifact.uri != target and os.path.exists(artifact.uri):
                os.replace(artifact.uri, target)
            artifact.uri = target
            artifact.state = ArtifactState.LIVE
            artifact.set_custom_property(
                cache_mod.FINGERPRINT_PROPERTY, cache_mod.fingerprint_path(target)
            )
    session.record_complete(node, execution, outputs, cache_key)
    remove_marker(session, node_id, execution.id)
    shutil.rmtree(session.layout.tmp(execution.id), ignore_errors=True)


def write_marker(session: RunSession, node_id: str, execution_id: int) -> None:
    """Note on disk which process runs ``execution_id``, so a later launch can tell, without
    querying the store, whether a RUNNING execution lost its process."""
    path = session.layout.marker(node_id, execution_id)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"pid": os.getpid(), "host": socket.gethostname()}, f)


def remove_marker(session: RunSession, node_id: str, execution_id: int | None) -> None:
    if execution_id is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(session.layout.marker(node_id, execution_id))


def reap_orphans(session: RunSession, node: Mapping[str, Any]) -> None:
    """Record RUNNING executions of this node whose process died as abandoned.

    Running executions leave a marker file until they finish; normally there is none, and
    this costs one directory listing, whatever the history in the store. (MLMD has no index
    on execution state: a query for RUNNING executions grows with the whole store.)
    """
    directory = session.layout.markers(node["id"])
    try:
        markers = os.listdir(directory)
    except FileNotFoundError:
        return
    host = socket.gethostname()
    for name in markers:
        try:
            execution_id = int(name.split(".")[0])
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                owner = json.load(f)
        except (ValueError, OSError):
            continue
        pid = owner.get("pid")
        if owner.get("host") != host or not isinstance(pid, int) or _pid_alive(pid):
            continue
        session.abandon(
            [execution_id],
            f"abandoned: the process running it (pid {pid} on {host}) died before it finished",
        )
        discard_staging(session, node, execution_id)
        remove_marker(session, node["id"], execution_id)
