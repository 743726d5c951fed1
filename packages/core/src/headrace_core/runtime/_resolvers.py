"""Resolvers (latest artifact, latest blessed model, span range) and importers.

A resolver picks existing LIVE artifacts from the pipeline's history; an importer registers
an external URI as an artifact, or finds the one it registered before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.artifacts import Artifact, ArtifactState
from headrace_core.metadata import EVENT_INTERNAL_OUTPUT, EVENT_OUTPUT, custom, event_paths
from headrace_core.runtime._inputs import Outputs, is_local
from headrace_core.runtime._session import RunSession
from headrace_core.runtime._types import LaunchError

__all__ = ["describe", "find_imported", "new_import", "resolve"]


def _channel_candidates(session: RunSession, ref: Mapping[str, Any]) -> list[Artifact]:
    """LIVE artifacts a resolver channel can choose from, newest first."""
    from ml_metadata.metadata_store import metadata_store

    options = metadata_store.ListOptions(
        order_by=metadata_store.OrderByField.ID,
        is_asc=False,
        filter_query=f"type = '{ref['type']}' AND state = LIVE",
    )
    producer = ref.get("producer")
    context = session.pipeline_ctx if producer is None else session.node_ctx(producer)
    if context.id <= 0:  # not recorded yet: nothing to choose from
        return []
    if ref.get("producer") is None:
        protos = session.store.call(
            "get_artifacts_by_context", session.pipeline_ctx.id, list_options=options
        )
        return [session.to_artifact(p) for p in protos]
    producer_ctx = session.node_ctx(ref["producer"])
    protos = session.store.call("get_artifacts_by_context", producer_ctx.id, list_options=options)
    # The producer's context also holds its inputs and its other outputs of the same type:
    # keep what one of its executions output under the channel's key.
    produced = _output_under_key(session, ref["producer"], ref["output"], [p.id for p in protos])
    return [session.to_artifact(p) for p in protos if p.id in produced]


def _output_under_key(
    session: RunSession, node_id: str, key: str, artifact_ids: list[int]
) -> set[int]:
    if not artifact_ids:
        return set()
    events = [
        e
        for e in session.store.call("get_events_by_artifact_ids", artifact_ids)
        if e.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT)
        and any(k == key for k, _ in event_paths(e))
    ]
    ids = {e.execution_id for e in events}
    executions = session.store.call("get_executions_by_id", ids) if ids else []
    ours = {
        x.id
        for x in executions
        if custom(x, "node_id") == node_id and custom(x, "pipeline") == session.pipeline_name
    }
    return {e.artifact_id for e in events if e.execution_id in ours}


def _latest_blessed(
    session: RunSession, channels: Mapping[str, Any], candidates: Mapping[str, list[Artifact]]
) -> Outputs:
    model_key = next(k for k, r in channels.items() if session.is_type(r["type"], "Model"))
    blessing_key = next(
        k for k, r in channels.items() if session.is_type(r["type"], "ModelBlessing")
    )
    blessed: dict[int, Artifact] = {}
    for blessing in candidates[blessing_key]:
        if blessing.get_custom_property("blessed") == 1:
            model_id = blessing.get_custom_property("current_model_id")
            if isinstance(model_id, int):
                blessed.setdefault(model_id, blessing)
    for model in candidates[model_key]:
        if model.id in blessed:
            return {model_key: [model], blessing_key: [blessed[model.id]]}
    return {model_key: [], blessing_key: []}


def _span_range(config: Mapping[str, Any], candidates: Mapping[str, list[Artifact]]) -> Outputs:
    ((kind, body),) = config["range_config"].items()
    result: Outputs = {}
    for key, artifacts in candidates.items():
        by_span: dict[int, Artifact] = {}
        for artifact in artifacts:  # newest first: the first per (span, version) wins
            span = artifact.properties.get("span")
            if not isinstance(span, int):
                continue
            best = by_span.get(span)
            version = int(artifact.properties.get("version") or 0)
            if best is None or version > int(best.properties.get("version") or 0):
                by_span[span] = artifact
        spans = sorted(by_span)
        start = body.get("start_span_number", 0)
        if kind == "static_range":
            chosen = [s for s in spans if start <= s <= body["end_span_number"]]
        else:
            chosen = [s for s in spans if s >= start][-int(body.get("num_spans", 1)) :]
        result[key] = [by_span[s] for s in chosen]
    return result


def resolve(session: RunSession, node: Mapping[str, Any]) -> Outputs:
    """What a resolver node picks now (reads only)."""
    strategy = node["resolver"]["strategy"]
    config = node["resolver"].get("config") or {}
    channels = node.get("inputs", {})
    candidates = {k: _channel_candidates(session, ref) for k, ref in channels.items()}
    if strategy == "latest_artifact":
        return {k: v[:1] for k, v in candidates.items()}
    if strategy == "latest_blessed_model":
        return _latest_blessed(session, channels, candidates)
    if strategy == "span_range":
        return _span_range(config, candidates)
    raise LaunchError(f"node {node['id']!r}: unknown resolver strategy {strategy!r}")


def describe(outputs: Mapping[str, list[Artifact]]) -> str:
    return ", ".join(f"{k}: {[a.id for a in v]}" for k, v in sorted(outputs.items()))


def _import_spec(node: Mapping[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """(uri, output type, properties, custom properties) an importer gives its artifact."""
    spec = node["importer"]
    uri = spec["source_uri"]
    if is_local(uri) and not os.path.exists(uri):
        raise LaunchError(f"Importer {node['id']!r}: {uri} does not exist")
    fingerprint = cache_mod.fingerprint_path(uri) if is_local(uri) else ""
    customs = {**spec.get("custom_properties", {}), "fingerprint": fingerprint}
    return uri, node["outputs"]["result"]["type"], dict(spec.get("properties", {})), customs


def find_imported(session: RunSession, node: Mapping[str, Any]) -> Artifact | None:
    """The artifact this importer registered before, if it may be reused (``reimport=False``
    and the same URI, type, properties and content)."""
    uri, out_type, properties, customs = _import_spec(node)
    if node["importer"].get("reimport", False):
        return None
    for proto in sorted(session.store.call("get_artifacts_by_uri", uri), key=lambda p: -p.id):
        if session.store.artifact_type_name(proto.type_id) != out_type:
            continue
        existing = session.to_artifact(proto)
        if (
            existing.state is ArtifactState.LIVE
            and existing.properties == properties
            and existing.custom_properties == customs
        ):
            return existing
    return None


def new_import(session: RunSession, node: Mapping[str, Any]) -> Artifact:
    """A new LIVE artifact for the importer's URI (not yet recorded)."""
    uri, out_type, properties, customs = _import_spec(node)
    return session.artifact_class(out_type)(
        uri, state=ArtifactState.LIVE, properties=properties, custom_properties=customs
    )
