"""What one pipeline run left in ML Metadata, in a form two orchestrators' runs can be compared
in: executions by node, artifacts by the node and key that produced them (type, state,
properties, content fingerprint), and lineage edges between node keys. Ids, absolute roots and
timestamps differ between runs and are left out or normalized."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from headrace_core.metadata import (
    RUN_CONTEXT,
    MetadataStore,
    custom,
    event_paths,
    get_value,
    run_context_name,
)
from headrace_core.testing import store_url

__all__ = ["VOLATILE_PROPERTIES", "run_snapshot", "store", "without"]

_ID_IN_PATH = re.compile(r"(/)\d+(?=/|$)")

INPUT, OUTPUT, INTERNAL_OUTPUT = 3, 4, 6
_STATES = {
    0: "UNKNOWN",
    1: "NEW",
    2: "RUNNING",
    3: "COMPLETE",
    4: "FAILED",
    5: "CACHED",
    6: "CANCELED",
}
_ARTIFACT_STATES = {
    0: "UNKNOWN",
    1: "PENDING",
    2: "LIVE",
    3: "MARKED",
    4: "DELETED",
    5: "ABANDONED",
}

#: Properties that legitimately differ between two runs of the same pipeline.
VOLATILE_PROPERTIES = frozenset(
    {"started_at", "finished_at", "duration", "run_id", "pid", "host", "orchestrator", "error"}
)


def store(root: Path) -> MetadataStore:
    """The store runs of ``root`` used: SQLite in the root, or under
    ``--metadata-backend=mariadb`` the test's database (``HEADRACE_METADATA``)."""
    return MetadataStore(store_url(root))


def _normalize(value: Any, root: Path) -> Any:
    if isinstance(value, str):
        value = value.replace(str(root), "<root>")
        # Paths under the root name execution ids (<root>/<node>/<key>/<id>), which follow the
        # order an orchestrator happened to start nodes in.
        return _ID_IN_PATH.sub(r"\1<id>", value) if value.startswith("<root>/") else value
    return value


def _properties(
    proto: Any, root: Path, names: Mapping[int, str], executions: Mapping[int, str]
) -> dict[str, Any]:
    """Properties, with artifact ids replaced by artifact names: ids follow the order in which
    an orchestrator happened to finish independent nodes."""
    found: dict[str, Any] = {}
    for kind, props in (("p", proto.properties), ("c", proto.custom_properties)):
        for key in props:
            # The key and the raw content fingerprints hash absolute paths and ids; the
            # snapshot has its own normalized fingerprint and the key's parts by name.
            if key in VOLATILE_PROPERTIES or key in ("cache_key", "fingerprint"):
                continue
            value = _normalize(get_value(props[key]), root)
            if key == "cached_from" and isinstance(value, int):
                value = executions.get(value, value)
            elif key.endswith("_id") and isinstance(value, int) and value in names:
                value = names[value]
            elif key == "cache_key_parts":
                parts = json.loads(value)
                parts["inputs"] = {
                    k: [names.get(i, i) for i, _ in v] for k, v in parts["inputs"].items()
                }
                value = parts
            found[f"{kind}:{key}"] = value
    return found


def _fingerprint(path: str, root: Path) -> str:
    """Content of a file or tree, with the pipeline root's absolute path normalized."""
    digest = hashlib.blake2b(digest_size=16)
    files = [path] if os.path.isfile(path) else []
    for directory, dirs, names in os.walk(path):
        dirs.sort()
        files += [os.path.join(directory, n) for n in sorted(names)]
    for full in files:
        with open(full, "rb") as f:
            content = f.read().replace(str(root).encode(), b"<root>")
        digest.update(f"{os.path.relpath(full, path)}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()


def run_snapshot(root: Path, pipeline: str, run_id: str) -> dict[str, Any]:
    metadata = store(root)
    ctx = metadata.get_context(RUN_CONTEXT, run_context_name(pipeline, run_id))
    assert ctx is not None, f"no run {run_id!r} of {pipeline!r} in {root}"
    executions = metadata.executions_in_context(ctx.id, newest_first=False)
    node_of = {e.id: str(custom(e, "node_id")) for e in executions}
    events = metadata.events(node_of)
    artifacts = {a.id: a for a in metadata.artifacts({ev.artifact_id for ev in events})}

    # The artifact's name everywhere: the node and key that first produced it.
    producer: dict[int, tuple[str, str, int]] = {}
    all_events = metadata.call("get_events_by_artifact_ids", list(artifacts)) if artifacts else []
    producer_nodes = {
        e.id: str(custom(e, "node_id"))
        for e in metadata.call("get_executions_by_id", list({ev.execution_id for ev in all_events}))
    }
    for ev in sorted(all_events, key=lambda ev: ev.execution_id):
        if ev.type == OUTPUT and ev.artifact_id not in producer:
            step = ev.path.steps
            producer[ev.artifact_id] = (
                producer_nodes[ev.execution_id],
                step[0].key if step else "",
                step[1].index if len(step) > 1 else 0,
            )

    def name(artifact_id: int) -> str:
        node, key, index = producer.get(artifact_id, ("<external>", str(artifact_id), 0))
        return f"{node}.{key}[{index}]"

    names = {artifact_id: name(artifact_id) for artifact_id in artifacts}
    sources = [custom(e, "cached_from") for e in executions if custom(e, "cached_from")]
    execution_names = {
        e.id: f"execution of {custom(e, 'node_id')}"
        for e in (metadata.call("get_executions_by_id", sources) if sources else [])
    }

    nodes: dict[str, Any] = {}
    for e in executions:
        nodes.setdefault(node_of[e.id], []).append(
            {
                "state": _STATES.get(e.last_known_state, str(e.last_known_state)),
                "status": custom(e, "status"),
                "properties": _properties(e, root, names, execution_names),
            }
        )
    outputs: dict[str, Any] = {}
    edges: set[tuple[str, str, str]] = set()
    for ev in events:
        node = node_of[ev.execution_id]
        key = ev.path.steps[0].key if ev.path.steps else ""
        if ev.type == INPUT:
            for input_key, _ in event_paths(ev):
                edges.add((name(ev.artifact_id), node, input_key))
        elif ev.type in (OUTPUT, INTERNAL_OUTPUT):
            artifact = artifacts[ev.artifact_id]
            outputs[f"{node}.{key}"] = {
                "artifact": name(ev.artifact_id),
                "event": "OUTPUT" if ev.type == OUTPUT else "INTERNAL_OUTPUT",
                "type": metadata.artifact_type_name(artifact.type_id),
                "state": _ARTIFACT_STATES.get(artifact.state, str(artifact.state)),
                "properties": _properties(artifact, root, names, execution_names),
                "fingerprint": _fingerprint(artifact.uri, root),
                "uri": _normalize(artifact.uri, root),
            }
    return {"executions": nodes, "outputs": outputs, "lineage": sorted(edges)}


def without(snapshot: Mapping[str, Any], *fields: str) -> dict[str, Any]:
    """The snapshot with the named output fields dropped (uris embed execution ids)."""
    outputs = {
        k: {f: v for f, v in out.items() if f not in fields}
        for k, out in snapshot["outputs"].items()
    }
    return {**snapshot, "outputs": outputs}
