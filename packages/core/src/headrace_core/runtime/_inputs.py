"""Input resolution: upstream nodes' outputs, conditions, and a node's input artifacts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from headrace_core import cache as cache_mod
from headrace_core.artifacts import Artifact
from headrace_core.channels import Channel, Predicate
from headrace_core.runtime._session import RunSession
from headrace_core.runtime._types import LaunchError, Status

__all__ = [
    "Outputs",
    "is_local",
    "Upstream",
    "check_conditions",
    "inputs_from",
    "key_inputs",
    "resolve_dynamic_parameters",
    "upstream_in_run",
]

Outputs = dict[str, list[Artifact]]


@dataclass(frozen=True)
class Upstream:
    """What a consumer knows of one upstream node.

    ``outputs`` is None when they are not known yet: in a plan, the node runs first. A plan
    then gives its latest outputs from history as ``previous``, the best guess a condition can
    be evaluated on (a re-run producer usually decides as it did last time).
    """

    status: str | None
    outputs: Outputs | None = None
    previous: Outputs | None = None


def is_local(uri: str) -> bool:
    """Whether an artifact URI is a path on this machine (not ``gs://...`` and the like)."""
    return "://" not in uri


def upstream_in_run(session: RunSession, node: Mapping[str, Any]) -> dict[str, Upstream]:
    """Every upstream node's finished state in this run; raises if one has not finished."""
    found: dict[str, Upstream] = {}
    for producer in node.get("upstream", []):
        status, execution = session.node_state(producer)
        if status is None or execution is None:
            hint = (
                " and has no successful run to reuse"
                if producer in session.reuse_latest
                else f" in run {session.run_id}"
            )
            raise LaunchError(
                f"node {node['id']!r}: upstream node {producer!r} has not finished{hint}"
            )
        if status == Status.SKIPPED:
            found[producer] = Upstream(Status.SKIPPED, {})
            continue
        if status not in Status.SUCCESS:
            raise LaunchError(
                f"node {node['id']!r}: upstream node {producer!r} is {status} in run "
                f"{session.run_id}"
            )
        found[producer] = Upstream(status, session.outputs_of_execution(execution.id))
    return found


def _field_value(ref: Mapping[str, Any], artifact: Artifact) -> Any:
    """The field a condition or a dynamic parameter names (``value``, ``uri``, a property)."""
    field_name = ref["field"]
    if field_name == "custom_property":
        return artifact.get_custom_property(ref["name"])
    if field_name == "property":
        return artifact.properties.get(ref["name"])
    if field_name == "uri":
        return artifact.uri
    value = artifact.get_custom_property("value")
    if value is None and hasattr(artifact, "read"):
        value = artifact.read()
    return value


def check_conditions(
    conditions: Iterable[Mapping[str, Any]], upstream: Mapping[str, Outputs]
) -> str | None:
    """None when every condition (a node's IR ``conditions``) holds; otherwise why the node
    is skipped."""
    for spec in conditions:
        artifacts = upstream.get(spec["producer"], {}).get(spec["output"], [])
        index = spec["index"]
        actual = (
            _field_value(spec, artifacts[index])
            if -len(artifacts) <= index < len(artifacts)
            else None
        )
        predicate = Predicate(
            Channel(Artifact), index, spec["field"], spec["name"], spec["op"], spec["value"]
        )
        if not predicate.evaluate(actual):
            return (
                f"condition {spec['producer']}.outputs[{spec['output']!r}][{index}]."
                f"{spec['field']}({spec['name']!r}) {spec['op']} {spec['value']!r} is false "
                f"(value: {actual!r})"
            )
    return None


def resolve_dynamic_parameters(
    node: Mapping[str, Any], upstream: Mapping[str, Outputs]
) -> Mapping[str, Any]:
    """``node`` with each parameter that reads an upstream artifact (its IR
    ``dynamic_parameters``) set to what the artifact holds: then the driver, the cache key
    and the executor see the value. A dict or list parameter given as JSON text (TFX's
    ``proto_utils.proto_to_json`` in a String artifact) is parsed."""
    dynamic = node.get("dynamic_parameters")
    if not dynamic:
        return node
    types = node.get("parameter_types", {})
    parameters = dict(node.get("parameters", {}))
    for key, ref in sorted(dynamic.items()):
        where = (
            f"node {node['id']!r}: parameter {key!r} reads "
            f"{ref['producer']}.outputs[{ref['output']!r}][{ref['index']}].{ref['field']}"
        )
        artifacts = upstream.get(ref["producer"], {}).get(ref["output"], [])
        if not -len(artifacts) <= ref["index"] < len(artifacts):
            raise LaunchError(f"{where}, but that output has {len(artifacts)} artifact(s)")
        value = _field_value(ref, artifacts[ref["index"]])
        if value is None:
            raise LaunchError(f"{where}, which is not set")
        if types.get(key) in ("dict", "list") and isinstance(value, (str, bytes)):
            try:
                value = json.loads(value)
            except ValueError as e:
                raise LaunchError(f"{where}: {types[key]} expected, not JSON ({e})") from None
        parameters[key] = value
    return {**node, "parameters": parameters}


def inputs_from(node: Mapping[str, Any], upstream: Mapping[str, Outputs]) -> Outputs:
    """The node's input artifacts by key; a required input that resolved to nothing raises."""
    inputs: Outputs = {}
    for key, ref in node.get("inputs", {}).items():
        if ref.get("producer") is None:
            continue
        artifacts = upstream.get(ref["producer"], {}).get(ref["output"], [])
        if not artifacts and node["kind"] == "component" and not ref.get("optional", False):
            raise LaunchError(
                f"node {node['id']!r}: required input {key!r} "
                f"({ref['producer']}.outputs[{ref['output']!r}]) resolved to no artifacts"
            )
        inputs[key] = list(artifacts)
    return inputs


def key_inputs(
    node: Mapping[str, Any], inputs: Mapping[str, list[Artifact]]
) -> dict[str, list[tuple[int, str]]]:
    """Inputs as the cache key sees them: each artifact's id and content fingerprint, for
    every input the component declares part of the key (not an analyzer cache)."""
    declared = node.get("inputs", {})
    return {
        key: [
            (int(a.id or 0), str(a.get_custom_property(cache_mod.FINGERPRINT_PROPERTY) or ""))
            for a in artifacts
        ]
        for key, artifacts in inputs.items()
        if declared.get(key, {}).get("in_cache_key", True)
    }
