"""Staging and publishing outputs; the marker files of running executions.

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
    "discard_unfinished",
    "place_outputs",
    "remove_marker",
    "stage_outputs",
    "write_marker",
]


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


def discard_unfinished(session: RunSession, node: Mapping[str, Any], execution_id: int) -> None:
    """Remove everything of an execution that failed or was abandoned: its staging folders,
    its scratch space, and folders already renamed to final paths but never published (a kill
    between the rename and the COMPLETE commit): nothing in the store points at any of them."""
    shutil.rmtree(session.layout.tmp(execution_id), ignore_errors=True)
    for key in node.get("outputs", {}):
        shutil.rmtree(session.layout.staging(node["id"], key, execution_id), ignore_errors=True)
        shutil.rmtree(session.layout.output(node["id"], key, execution_id), ignore_errors=True)


def place_outputs(
    session: RunSession, node: Mapping[str, Any], execution: Any, outputs: Outputs
) -> None:
    """Rename staged outputs to their final paths (still unpublished: the artifacts become
    LIVE only with the COMPLETE execution, in :meth:`SessionRecords.record_complete`)."""
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


def write_marker(session: RunSession, node: Mapping[str, Any], token: str, name: str) -> None:
    """Note on disk which process is about to claim execution ``name`` of ``node``, before
    the claim is committed: a launch killed at any point after the commit leaves a marker, so
    a later launch can tell, without querying the whole store, that an execution lost its
    process. Raises OSError when the pipeline root cannot be written, before anything is
    recorded."""
    path = session.layout.marker(node["id"], token)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "type": node["type"], "name": name}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(owner, f)


def remove_marker(session: RunSession, node_id: str, token: str | None) -> None:
    if token is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(session.layout.marker(node_id, token))
