"""The portable IR: compile, schema validation, load, deterministic bytes."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import hrcore_components
import pytest
from google.protobuf import descriptor_pb2
from hrcore_components import ExampleGen, Trainer

from headrace_core import (
    Artifact,
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    Importer,
    IRError,
    Pipeline,
    Resolver,
    ir,
)
from headrace_core.pipeline_file import load_pipeline_file
from headrace_core.plugins import PluginManager, hookimpl

FULL_PIPELINE = Path(__file__).parent / "fixtures" / "hrcore_pipeline.py"


@pytest.fixture
def full_pipeline() -> Pipeline:
    return load_pipeline_file(str(FULL_PIPELINE))


@pytest.fixture
def document(full_pipeline: Pipeline) -> dict[str, Any]:
    return ir.compile(full_pipeline)


def _nodes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in document["nodes"]}


def _channel(ref: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (ref["type"], ref["producer"], ref["output"])


def _small_pipeline() -> Pipeline:
    gen = ExampleGen(input_base="/data")
    return Pipeline("small", "/root", [gen])


# Compile ---------------------------------------------------------------------------------------


def test_full_pipeline_uses_every_feature(document: dict[str, Any]) -> None:
    nodes = _nodes(document)
    assert len(nodes) >= 10
    assert [n["id"] for n in document["nodes"]] == [
        "baseline_resolver",
        "latest_model_resolver",
        "schema_importer",
        "ExampleGen",
        "CountSplits",
        "Summarize",
        "span_resolver",
        "StatisticsGen",
        "SchemaGen",
        "Trainer",
        "Evaluator",
        "WriteReport",
        "Pusher",
        "Announce",
    ]
    assert {n["kind"] for n in document["nodes"]} == {"component", "resolver", "importer"}
    assert document["ir_version"] == ir.IR_VERSION
    assert document["pipeline"] == {
        "name": "hrcore-full",
        "root": "/srv/headrace/full",
        "enable_cache": True,
        "metadata_connection_config": "sqlite:///srv/headrace/metadata.sqlite",
        "beam_pipeline_args": ["--direct_num_workers=1"],
    }

    trainer = nodes["Trainer"]
    assert trainer["class"] == "hrcore_components:Trainer"
    assert trainer["type"] == "hrcore_components.Trainer"
    assert trainer["executor"] == "hrcore_components:ExampleGenExecutor"
    assert trainer["provider"] is None
    assert trainer["source_file"] == os.path.abspath(hrcore_components.__file__)
    assert trainer["parameters"] == {
        "train_steps": 100,
        "learning_rate": 1.0,
        "custom_config": {"layers": [64, 32], "activation": "relu"},
        "hyperparameters": {"dropout": 0.25, "optimizer": "adam"},
        "feature": {"name": "COLOR", "number": 7},
        "verbose": False,
    }
    assert isinstance(trainer["parameters"]["learning_rate"], float)
    assert trainer["parameter_types"] == {
        "custom_config": "dict",
        "feature": "proto:google.protobuf.EnumValueDescriptorProto",
        "hyperparameters": "proto:google.protobuf.Struct",
        "learning_rate": "float",
        "train_steps": "int",
        "verbose": "bool",
    }
    assert trainer["enable_cache"] is False
    assert trainer["explicit_upstream"] == ["SchemaGen"]
    assert trainer["upstream"] == [
        "ExampleGen",
        "SchemaGen",
        "latest_model_resolver",
        "schema_importer",
    ]
    assert trainer["downstream"] == ["Evaluator", "Pusher", "WriteReport"]
    assert _channel(trainer["inputs"]["base_model"]) == ("Model", "latest_model_resolver", "model")
    assert trainer["inputs"]["base_model"].get("optional", True) is True
    assert _channel(trainer["inputs"]["examples"]) == ("Examples", "ExampleGen", "examples")
    assert trainer["outputs"]["model"]["type"] == "Model"
    assert trainer["outputs"]["model"]["optional"] is False
    assert trainer["outputs"]["model"]["allow_empty"] is False

    assert nodes["CountSplits"]["enable_cache"] is True
    assert nodes["ExampleGen"]["enable_cache"] is None
    assert nodes["ExampleGen"]["executor"] == "hrcore_components:ExampleGenExecutor"
    assert nodes["ExampleGen"]["parameters"] == {
        "input_base": "/data/csv",
        "splits": ["train", "eval", "test"],
    }

    latest = nodes["latest_model_resolver"]
    assert latest["resolver"] == {"strategy": "latest_artifact", "config": {}}
    assert list(latest["inputs"]) == ["model"]
    assert _channel(latest["inputs"]["model"]) == ("Model", None, None)
    assert "executor" not in latest
    assert nodes["baseline_resolver"]["resolver"]["strategy"] == "latest_blessed_model"
    assert nodes["span_resolver"]["resolver"] == {
        "strategy": "span_range",
        "config": {"range_config": {"rolling_range": {"num_spans": 2}}},
    }

    importer = nodes["schema_importer"]
    assert importer["importer"] == {
        "source_uri": "/data/schema",
        "reimport": True,
        "properties": {},
        "custom_properties": {"origin": "hand-written", "revision": 3},
    }
    assert importer["outputs"] == {"result": {"type": "Schema"}}

    blessed = {
        "producer": "Evaluator",
        "output": "blessing",
        "index": 0,
        "field": "custom_property",
        "name": "blessed",
        "op": "==",
        "value": 1,
    }
    assert nodes["Pusher"]["conditions"] == [blessed]
    assert nodes["WriteReport"]["conditions"] == [
        blessed,
        {
            "producer": "CountSplits",
            "output": "output",
            "index": 0,
            "field": "value",
            "name": "value",
            "op": ">",
            "value": 1,
        },
    ]
    assert nodes["Announce"]["conditions"] == []
    assert nodes["Announce"]["explicit_upstream"] == ["Pusher"]

    # Function components: value artifacts in and out, defined in a module or the file itself.
    summarize = nodes["Summarize"]
    assert summarize["executor"] == "hrcore_components:Summarize.Executor"
    assert _channel(summarize["inputs"]["count"]) == ("Integer", "CountSplits", "output")
    assert {k: v["type"] for k, v in summarize["outputs"].items()} == {
        "message": "String",
        "passed": "Boolean",
    }
    assert summarize["parameters"] == {"label": "splits"}
    announce = nodes["Announce"]
    assert announce["class"] == "hrcore_pipeline:Announce"
    assert announce["source_file"] == os.path.abspath(FULL_PIPELINE)
    assert nodes["WriteReport"]["parameters"]["options"] == {"owner": "ml-team"}

    types = document["artifact_types"]
    assert set(types) >= {"Examples", "Model", "ModelBlessing", "Integer", "String", "Boolean"}
    assert types["Examples"] == {
        "class": "headrace_core.artifacts:Examples",
        "properties": {"span": "INT", "split_names": "STRING", "version": "INT"},
        "provider": {"distribution": "headrace-core", "version": _core_version()},
    }


def _core_version() -> str:
    from headrace_core import __version__

    return __version__


def test_full_pipeline_validates_against_the_schema(document: dict[str, Any]) -> None:
    ir.validate(document)
    ir.validate(json.loads(ir.dumps(document)))


def test_load_rebuilds_the_pipeline(document: dict[str, Any]) -> None:
    pipeline = ir.load(document)
    nodes = pipeline.nodes_by_id
    assert [n.id for n in pipeline.components] == [n["id"] for n in document["nodes"]]
    trainer = nodes["Trainer"]
    assert isinstance(trainer, Trainer)
    feature = trainer.exec_properties["feature"]
    assert isinstance(feature, descriptor_pb2.EnumValueDescriptorProto)
    assert (feature.name, feature.number) == ("COLOR", 7)
    assert trainer.enable_cache is False
    assert [u.id for u in trainer.explicit_upstream_nodes] == ["SchemaGen"]
    assert trainer.inputs["base_model"].producer is nodes["latest_model_resolver"]
    resolver = nodes["latest_model_resolver"]
    assert isinstance(resolver, Resolver)
    assert resolver.inputs["model"].producer is None
    importer = nodes["schema_importer"]
    assert isinstance(importer, Importer)
    assert importer.custom_properties == {"origin": "hand-written", "revision": 3}
    (outer, inner) = nodes["WriteReport"].conditions
    assert outer.channel is nodes["Evaluator"].outputs["blessing"]
    assert inner.describe() == "CountSplits.outputs['output'][0].value('value') > 1"


def test_compile_of_load_is_byte_identical(document: dict[str, Any]) -> None:
    text = ir.dumps(document)
    assert ir.dumps(ir.compile(ir.load(document))) == text
    # From the text too, and twice over.
    again = ir.compile(ir.load(ir.compile(ir.load(text))))
    assert ir.dumps(again) == text


def test_dumps_is_canonical(document: dict[str, Any]) -> None:
    text = ir.dumps(document)
    assert text.endswith("}\n")
    assert text.startswith('{\n  "artifact_types": {')
    assert ir.dumps(json.loads(text)) == text
    shuffled = dict(reversed(list(document.items())))
    assert ir.dumps(shuffled) == text
    assert ir.loads(text.encode()) == document


def test_compile_is_deterministic_across_interpreters(
    tmp_path: Path, run_cli: Any, document: dict[str, Any]
) -> None:
    outputs = []
    for i, seed in enumerate(["1", "4242"]):
        out = tmp_path / f"ir{i}.json"
        result = run_cli("compile", str(FULL_PIPELINE), "-o", str(out), hash_seed=seed)
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    # And the same as compiling in this process.
    assert outputs[0].decode("utf-8") == ir.dumps(document)


def test_registered_component_records_its_provider() -> None:
    class Plugin:
        @hookimpl
        def headrace_register_components(self, registry: Any) -> None:
            registry.add(ExampleGen)

    manager = PluginManager(autoload=False, plugins=[("fixture", Plugin(), "hrcore-fixtures")])
    assert manager.errors == []
    (node,) = ir.compile(_small_pipeline(), plugins=manager)["nodes"]
    assert node["provider"] == {"distribution": "hrcore-fixtures", "version": "0"}
    assert node["source_file"] is None


def test_unregistered_artifact_type_is_imported_by_its_class() -> None:
    gen = ExampleGen(input_base="/data")
    embed = hrcore_components.Embed(examples=gen.outputs["examples"], dimension=8)
    document = ir.compile(Pipeline("vectors", "/r", [gen, embed]))
    assert document["artifact_types"]["HrcoreVectors"] == {
        "class": "hrcore_components:Vectors",
        "properties": {"dimension": "INT", "norm": "DOUBLE"},
        "provider": None,
    }
    ir.validate(document)
    loaded = ir.load(document)
    assert loaded.nodes_by_id["Embed"].outputs["vectors"].type is hrcore_components.Vectors


def test_compile_refuses_non_pipelines() -> None:
    with pytest.raises(IRError, match="compile\\(\\) takes a Pipeline, got dict"):
        ir.compile({"pipeline": 1})  # type: ignore[arg-type]


def test_component_class_defined_in_a_function_cannot_compile() -> None:
    class LocalSpec(ComponentSpec):
        OUTPUTS = {"examples": ChannelParameter(type=hrcore_components.Examples)}

    class Local(BaseComponent):
        SPEC_CLASS = LocalSpec
        EXECUTOR_SPEC = "pkg.module:Executor"

    with pytest.raises(IRError, match=r"node 'Local': .*local scope"):
        ir.compile(Pipeline("p", "/r", [Local()]))


def test_two_classes_with_one_type_name_cannot_compile() -> None:
    class Vectors2(Artifact):
        TYPE_NAME = "HrcoreVectors"

    class ConsumerSpec(ComponentSpec):
        INPUTS = {"vectors": ChannelParameter(type=Vectors2)}
        OUTPUTS = {"model": ChannelParameter(type=hrcore_components.Model)}

    class Consumer(BaseComponent):
        SPEC_CLASS = ConsumerSpec
        EXECUTOR_SPEC = "pkg.module:Executor"

    gen = ExampleGen(input_base="/data")
    embed = hrcore_components.Embed(examples=gen.outputs["examples"], dimension=8)
    vectors = Resolver(v=embed.outputs["vectors"])
    resolved = Resolver(v=Channel(type=Vectors2)).with_id("r2")
    consumer = Consumer(vectors=resolved.outputs["v"])
    with pytest.raises(IRError, match="two different classes use artifact type name"):
        ir.compile(Pipeline("p", "/r", [gen, embed, vectors, resolved, consumer]))


# Invalid documents --------------------------------------------------------------------------


def _break(document: dict[str, Any], path: list[Any], value: Any = KeyError) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    target: Any = broken
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return broken


@pytest.mark.parametrize(
    ("path", "value", "where", "what"),
    [
        (["ir_version"], "2.0", "/ir_version", "does not match"),
        (["pipeline", "name"], "bad name!", "/pipeline/name", "does not match"),
        (["pipeline", "enable_cache"], "yes", "/pipeline/enable_cache", "is not of type"),
        (["pipeline", "root"], KeyError, "/pipeline", "'root' is a required property"),
        (["nodes"], [], "/nodes", "should be non-empty"),
        (["nodes", 0, "kind"], KeyError, "/nodes/0", "'kind' is a required property"),
        (["nodes", 0, "kind"], "task", "/nodes/0/kind", "is not one of"),
        (["nodes", 3, "executor"], "not a ref", "/nodes/3/executor", "does not match"),
        (["nodes", 3, "parameters"], KeyError, "/nodes/3", "'parameters' is a required"),
        (["nodes", 0, "resolver", "strategy"], "newest", "/nodes/0/resolver/strategy", ""),
        (["nodes", 2, "importer", "source_uri"], "", "/nodes/2/importer/source_uri", ""),
        (["nodes", 3, "surprise"], 1, "/nodes/3", "'surprise' was unexpected"),
        (["artifact_types", "Examples", "properties", "span"], "LONG", "/artifact_types", ""),
        (["nodes", 9, "conditions"], [{"op": "=="}], "/nodes/9/conditions/0", "required"),
        (["surprise"], {}, "/", "Additional properties are not allowed"),
    ],
)
def test_invalid_documents_name_the_path(
    document: dict[str, Any], path: list[Any], value: Any, where: str, what: str
) -> None:
    ir.validate(document)  # the unbroken document is fine
    broken = _break(document, path, value)
    with pytest.raises(IRError) as info:
        ir.validate(broken)
    message = str(info.value)
    assert message.startswith("IR document does not match the schema:")
    assert f"at {where}" in message
    assert what in message


def test_many_errors_are_summarized(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    for node in broken["nodes"]:
        node["id"] = "not a name"
    with pytest.raises(IRError) as info:
        ir.validate(broken)
    message = str(info.value)
    assert message.count("\n  at /nodes/") == 10
    assert f"... and {len(broken['nodes']) - 10} more" in message


def test_resolver_with_an_executor_is_invalid(document: dict[str, Any]) -> None:
    broken = _break(document, ["nodes", 0, "executor"], "pkg.mod:Executor")
    with pytest.raises(IRError, match="at /nodes/0"):
        ir.validate(broken)


# Loading bad documents -----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.0", "0.9", "", "one"])
def test_load_refuses_an_unknown_ir_version(document: dict[str, Any], version: str) -> None:
    with pytest.raises(IRError, match=f"unsupported ir_version {version!r}"):
        ir.load({**document, "ir_version": version})


def test_load_accepts_a_newer_minor_version(document: dict[str, Any]) -> None:
    pipeline = ir.load({**document, "ir_version": "1.7"})
    assert len(pipeline.components) == len(document["nodes"])


def test_loads_refuses_non_documents() -> None:
    with pytest.raises(IRError, match="invalid JSON at line 1"):
        ir.loads("{not json")
    with pytest.raises(IRError, match="the top level must be an object"):
        ir.loads("[1, 2]")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("pipeline"), "needs a `pipeline` object"),
        (lambda d: d.pop("nodes"), "a `nodes` list"),
        (lambda d: d["nodes"][0].pop("id"), "nodes\\[0\\] has no string `id`"),
        (
            lambda d: d["nodes"][3].__setitem__("class", "nowhere_module_xyz:Gen"),
            "node 'ExampleGen': cannot rebuild from the IR",
        ),
        (lambda d: d["nodes"][3].__setitem__("kind", "task"), "unknown node kind 'task'"),
        (
            lambda d: d["nodes"].reverse(),
            "node 'Announce' reads from 'WriteReport', which is not defined before it",
        ),
        (
            lambda d: d["nodes"][4]["inputs"]["examples"].__setitem__("output", "nope"),
            "node 'CountSplits' reads missing output ExampleGen.nope",
        ),
        (
            lambda d: d["nodes"][3].__setitem__("class", "hrcore_components:Vectors"),
            "'hrcore_components:Vectors' is not a component class",
        ),
    ],
)
def test_load_reports_broken_documents_as_ir_errors(
    document: dict[str, Any], change: Any, message: str
) -> None:
    broken = copy.deepcopy(document)
    change(broken)
    with pytest.raises(IRError, match=message):
        ir.load(broken)


def test_load_of_an_unknown_artifact_type(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    resolver = broken["nodes"][1]
    assert resolver["id"] == "latest_model_resolver"
    resolver["inputs"]["model"]["type"] = "Mystery"
    with pytest.raises(IRError, match="artifact type 'Mystery' is used but not declared"):
        ir.load(broken)
    broken["artifact_types"]["Mystery"] = {"class": "nowhere_xyz:Mystery", "properties": {}}
    with pytest.raises(IRError, match="'Mystery' is not registered by any plugin"):
        ir.load(broken)
