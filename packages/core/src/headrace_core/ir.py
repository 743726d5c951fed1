"""The portable intermediate representation (IR): the only thing orchestrators receive.

``compile(pipeline)`` turns a pipeline into a plain JSON document; ``dumps`` writes it
byte-for-byte deterministically; ``load`` rebuilds the pipeline. The document's shape is
fixed by ``ir_schema.json`` (JSON Schema 2020-12) beside this module.

Compatibility: readers accept any document whose ``ir_version`` has the same major number;
a minor bump only adds optional fields.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from importlib import resources
from typing import Any

from headrace_core.artifacts import Artifact
from headrace_core.channels import ArtifactValue, Channel, Predicate
from headrace_core.component import BaseComponent, BaseNode
from headrace_core.dsl import Importer, Pipeline, Resolver
from headrace_core.errors import IRError
from headrace_core.executor import import_ref, object_ref
from headrace_core.plugins.manager import PluginManager, get_plugin_manager

__all__ = ["IR_VERSION", "compile", "dumps", "load", "loads", "schema", "validate"]

IR_VERSION = "1.0"
_MAJOR = IR_VERSION.split(".", maxsplit=1)[0]


def compile(pipeline: Pipeline, *, plugins: PluginManager | None = None) -> dict[str, Any]:  # noqa: A001 - TFX's verb
    """The IR document of ``pipeline``, as plain JSON-compatible data."""
    if not isinstance(pipeline, Pipeline):
        raise IRError(f"compile() takes a Pipeline, got {type(pipeline).__name__}")
    manager = plugins or get_plugin_manager()
    artifact_types: dict[str, type[Artifact]] = {}
    downstream: dict[str, set[str]] = {n.id: set() for n in pipeline.components}
    for node in pipeline.components:
        for upstream in node.upstream_nodes:
            downstream[upstream.id].add(node.id)
    nodes = [
        _compile_node(node, manager, artifact_types, sorted(downstream[node.id]))
        for node in pipeline.components
    ]
    return {
        "ir_version": IR_VERSION,
        "pipeline": {
            "name": pipeline.pipeline_name,
            "root": pipeline.pipeline_root,
            "enable_cache": pipeline.enable_cache,
            "metadata_connection_config": pipeline.metadata_connection_config,
            "beam_pipeline_args": list(pipeline.beam_pipeline_args),
        },
        "artifact_types": {
            name: _compile_artifact_type(cls, manager)
            for name, cls in sorted(artifact_types.items())
        },
        "nodes": nodes,
    }


def dumps(document: Mapping[str, Any]) -> str:
    """Canonical JSON text: sorted keys, two-space indent, trailing newline."""
    return (
        json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    )


def loads(text: str | bytes) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise IRError(f"not an IR document: invalid JSON at line {e.lineno}: {e.msg}") from None
    if not isinstance(document, dict):
        raise IRError("not an IR document: the top level must be an object")
    return document


def _provider(provenance: Any) -> dict[str, str] | None:
    if provenance is None:
        return None
    return {"distribution": provenance.distribution, "version": provenance.version}


def _ref(obj: Any, where: str) -> str:
    """``object_ref(obj)``, failing with an IRError naming ``where`` (a class defined locally)."""
    try:
        return object_ref(obj)
    except ValueError as e:
        raise IRError(f"{where}: {e}") from None


def _compile_artifact_type(cls: type[Artifact], manager: PluginManager) -> dict[str, Any]:
    entry = None
    if cls.TYPE_NAME in manager.artifact_types:
        candidate = manager.artifact_types.entry(cls.TYPE_NAME)
        entry = candidate if candidate.value is cls else None
    return {
        "class": _ref(cls, f"artifact type {cls.TYPE_NAME!r}"),
        "properties": {k: v.value for k, v in sorted(cls.PROPERTIES.items())},
        "provider": _provider(entry.provenance if entry else None),
    }


def _note_type(
    artifact_types: dict[str, type[Artifact]], cls: type[Artifact], node: BaseNode
) -> str:
    name = cls.TYPE_NAME
    known = artifact_types.setdefault(name, cls)
    if known is not cls:
        raise IRError(
            f"node {node.id!r}: two different classes use artifact type name {name!r}: "
            f"{known.__module__}:{known.__qualname__} and {cls.__module__}:{cls.__qualname__}"
        )
    return name


def _channel_ref(
    channel: Channel, node: BaseNode, types: dict[str, type[Artifact]]
) -> dict[str, Any]:
    return {
        "type": _note_type(types, channel.type, node),
        "producer": channel.producer_component_id,
        "output": channel.output_key,
    }


def _compile_node(
    node: BaseNode,
    manager: PluginManager,
    types: dict[str, type[Artifact]],
    downstream: list[str],
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": node.id,
        "kind": node.KIND,
        "type": node.type,
        "inputs": {k: _channel_ref(c, node, types) for k, c in sorted(node.inputs.items())},
        "outputs": {
            k: {"type": _note_type(types, c.type, node)} for k, c in sorted(node.outputs.items())
        },
        "upstream": sorted(u.id for u in node.upstream_nodes),
        "downstream": downstream,
        "explicit_upstream": sorted(u.id for u in node.explicit_upstream_nodes),
        "conditions": [_compile_predicate(p) for p in node.conditions],
        "enable_cache": node.enable_cache,
    }
    if isinstance(node, BaseComponent):
        cls = type(node)
        spec = cls.SPEC_CLASS
        provenance = manager.provider_of(cls)
        doc["class"] = _ref(cls, f"node {node.id!r}")
        doc["executor"] = cls.executor_ref()
        doc["driver"] = cls.driver_ref()
        doc["environment"] = dict(sorted(cls.EXECUTOR_ENV.items()))
        doc["provider"] = _provider(provenance)
        doc["source_file"] = None if provenance is not None else _source_file(cls)
        doc["parameters"] = {
            k: spec.PARAMETERS[k].to_json(v) for k, v in sorted(node.exec_properties.items())
        }
        doc["parameter_types"] = {k: p.label for k, p in sorted(spec.PARAMETERS.items())}
        if node.dynamic_parameters:
            doc["dynamic_parameters"] = {
                k: v.to_ir() for k, v in sorted(node.dynamic_parameters.items())
            }
        for key in doc["inputs"]:
            doc["inputs"][key]["optional"] = spec.INPUTS[key].optional
            if not spec.INPUTS[key].in_cache_key:
                doc["inputs"][key]["in_cache_key"] = False
        for key in doc["outputs"]:
            declared = spec.OUTPUTS[key]
            doc["outputs"][key]["optional"] = declared.optional
            doc["outputs"][key]["allow_empty"] = declared.allow_empty
    elif isinstance(node, Resolver):
        doc["resolver"] = {"strategy": node.strategy_class.NAME, "config": node.config}
    elif isinstance(node, Importer):
        doc["importer"] = {
            "source_uri": node.source_uri,
            "reimport": node.reimport,
            "properties": node.properties,
            "custom_properties": node.custom_properties,
        }
    else:
        raise IRError(f"node {node.id!r}: cannot compile a {type(node).__name__}")
    return doc


def _source_file(cls: type) -> str | None:
    source = getattr(cls, "SOURCE_FILE", None)
    if source:
        return str(source)
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    return os.path.abspath(path) if path else None


def _compile_predicate(predicate: Predicate) -> dict[str, Any]:
    return {
        "producer": predicate.channel.producer_component_id,
        "output": predicate.channel.output_key,
        "index": predicate.index,
        "field": predicate.field,
        "name": predicate.name,
        "op": predicate.op,
        "value": predicate.value,
    }


# Loading -----------------------------------------------------------------------------------


def _artifact_class(
    document: Mapping[str, Any], name: str, plugins: PluginManager
) -> type[Artifact]:
    if name in plugins.artifact_types:
        return plugins.artifact_types.get(name)
    info = document.get("artifact_types", {}).get(name)
    if info is None:
        raise IRError(f"artifact type {name!r} is used but not declared in the IR")
    try:
        cls = import_ref(info["class"])
    except (ImportError, AttributeError, ValueError) as e:
        raise IRError(
            f"artifact type {name!r} is not registered by any plugin and {info['class']!r} "
            f"cannot be imported: {e}"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, Artifact)):
        raise IRError(f"{info['class']!r} is not an Artifact subclass")
    return cls


def load(
    document: Mapping[str, Any] | str | bytes, *, plugins: PluginManager | None = None
) -> Pipeline:
    """Rebuild the pipeline an IR document describes."""
    if isinstance(document, (str, bytes)):
        document = loads(document)
    version = str(document.get("ir_version", ""))
    if version.split(".", maxsplit=1)[0] != _MAJOR:
        raise IRError(
            f"unsupported ir_version {version!r}: this headrace-core reads {_MAJOR}.x documents"
        )
    if not isinstance(document.get("pipeline"), Mapping) or not isinstance(
        document.get("nodes"), list
    ):
        raise IRError("not an IR document: it needs a `pipeline` object and a `nodes` list")
    manager = plugins or get_plugin_manager()
    built: dict[str, BaseNode] = {}

    def channel(ref: Mapping[str, Any], node_id: str) -> Channel:
        if ref.get("producer") is None:
            return Channel(_artifact_class(document, ref["type"], manager))
        producer = built.get(ref["producer"])
        if producer is None:
            raise IRError(
                f"node {node_id!r} reads from {ref['producer']!r}, which is not defined before it"
            )
        out = producer.outputs.get(ref["output"])
        if out is None:
            raise IRError(
                f"node {node_id!r} reads missing output {ref['producer']}.{ref['output']}"
            )
        return out

    for index, spec in enumerate(document["nodes"]):
        node_id = spec.get("id") if isinstance(spec, Mapping) else None
        if not isinstance(node_id, str):
            raise IRError(f"nodes[{index}] has no string `id`")
        try:
            inputs: dict[str, Any] = {
                k: channel(v, node_id) for k, v in spec.get("inputs", {}).items()
            }
            for key, ref in spec.get("dynamic_parameters", {}).items():
                inputs[key] = ArtifactValue(
                    channel(ref, node_id), ref["index"], ref["field"], ref["name"]
                )
            node = _load_node(spec, inputs, document, manager)
            node.with_id(node_id)
            node._conditions = tuple(
                _load_predicate(p, channel(p, node_id)) for p in spec.get("conditions", [])
            )
            for upstream_id in spec.get("explicit_upstream", []):
                node.add_upstream_node(built[upstream_id])
            if spec.get("enable_cache") is not None:
                node.with_cache(bool(spec["enable_cache"]))
        except IRError:
            raise
        except Exception as e:
            raise IRError(f"node {node_id!r}: cannot rebuild from the IR: {e}") from e
        built[node_id] = node

    p = document["pipeline"]
    return Pipeline(
        pipeline_name=p["name"],
        pipeline_root=p["root"],
        components=list(built.values()),
        enable_cache=p.get("enable_cache", True),
        metadata_connection_config=p.get("metadata_connection_config"),
        beam_pipeline_args=p.get("beam_pipeline_args") or [],
    )


def _load_node(
    spec: Mapping[str, Any],
    inputs: dict[str, Any],
    document: Mapping[str, Any],
    manager: PluginManager,
) -> BaseNode:
    kind = spec.get("kind")
    if kind == "component":
        cls = import_ref(spec["class"], source_file=spec.get("source_file"))
        if not (isinstance(cls, type) and issubclass(cls, BaseComponent)):
            raise IRError(f"{spec['class']!r} is not a component class")
        return cls._restore({**spec.get("parameters", {}), **inputs})
    if kind == "resolver":
        r = spec["resolver"]
        return Resolver(strategy_class=r["strategy"], config=r.get("config") or None, **inputs)
    if kind == "importer":
        i = spec["importer"]
        output_type = spec["outputs"][Importer.OUTPUT_KEY]["type"]
        return Importer(
            source_uri=i["source_uri"],
            artifact_type=_artifact_class(document, output_type, manager),
            reimport=i.get("reimport", False),
            properties=i.get("properties") or None,
            custom_properties=i.get("custom_properties") or None,
        )
    raise IRError(f"unknown node kind {kind!r}")


def _load_predicate(spec: Mapping[str, Any], channel: Channel) -> Predicate:
    return Predicate(channel, spec["index"], spec["field"], spec["name"], spec["op"], spec["value"])


# Schema ------------------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    """The JSON Schema of IR documents."""
    text = resources.files("headrace_core").joinpath("ir_schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def validate(document: Mapping[str, Any]) -> None:
    """Raise :class:`IRError` listing where ``document`` breaks the IR schema.

    Needs ``jsonschema`` (``pip install headrace-core[validate]``).
    """
    try:
        import jsonschema
    except ImportError:
        raise IRError(
            "IR validation needs jsonschema: pip install 'headrace-core[validate]'"
        ) from None
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors[:10]
        ]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise IRError("IR document does not match the schema:\n" + "\n".join(lines) + more)
