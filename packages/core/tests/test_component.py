"""The component contract: spec declaration, construction checks, outputs, options."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, struct_pb2

from headrace_core import (
    BaseComponent,
    BaseExecutor,
    Channel,
    ChannelParameter,
    ComponentDefinitionError,
    ComponentSpec,
    Examples,
    ExampleStatistics,
    ExecutionParameter,
    InvalidComponentArgumentError,
    Model,
    OutputChannel,
    Schema,
)
from headrace_core.component import is_proto_class, parameter_type_label


class TrainSpec(ComponentSpec):
    PARAMETERS = {
        "train_steps": ExecutionParameter(type=int),
        "learning_rate": ExecutionParameter(type=float, default=0.01),
        "use_gpu": ExecutionParameter(type=bool, default=False),
        "module_file": ExecutionParameter(type=str, optional=True),
        "custom_config": ExecutionParameter(type=dict, optional=True),
        "feature_keys": ExecutionParameter(type=list, default=["a", "b"]),
        "field": ExecutionParameter(type=descriptor_pb2.FieldDescriptorProto, optional=True),
        "extra": ExecutionParameter(type=struct_pb2.Struct, optional=True),
    }
    INPUTS = {
        "examples": ChannelParameter(type=Examples),
        "schema": ChannelParameter(type=Schema, optional=True),
    }
    OUTPUTS = {"model": ChannelParameter(type=Model)}


class TrainExecutor(BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[Any]],
        output_dict: dict[str, list[Any]],
        exec_properties: dict[str, Any],
    ) -> None:
        pass


class Train(BaseComponent):
    SPEC_CLASS = TrainSpec
    EXECUTOR_SPEC = "some_package.executor:TrainExecutor"


class GenSpec(ComponentSpec):
    PARAMETERS = {"input_base": ExecutionParameter(type=str)}
    OUTPUTS = {
        "examples": ChannelParameter(type=Examples),
        "statistics": ChannelParameter(type=ExampleStatistics),
    }


class Gen(BaseComponent):
    SPEC_CLASS = GenSpec
    EXECUTOR_SPEC = TrainExecutor


@pytest.fixture
def gen() -> Gen:
    return Gen(input_base="/data")


def _train(gen: Gen, **kwargs: Any) -> Train:
    return Train(examples=gen.outputs["examples"], **{"train_steps": 10, **kwargs})


# Construction: the good path ---------------------------------------------------------------


def test_outputs_are_channels_of_declared_types(gen: Gen) -> None:
    assert set(gen.outputs) == {"examples", "statistics"}
    channel = gen.outputs["examples"]
    assert isinstance(channel, OutputChannel)
    assert channel.type is Examples
    assert channel.producer is gen
    assert channel.producer_component_id == "Gen"
    assert channel.output_key == "examples"
    assert gen.outputs["statistics"].type_name == "ExampleStatistics"
    assert repr(channel) == "OutputChannel(Gen.outputs['examples']: Examples)"


def test_defaults_applied_and_optional_left_out(gen: Gen) -> None:
    train = _train(gen)
    assert train.exec_properties == {
        "train_steps": 10,
        "learning_rate": 0.01,
        "use_gpu": False,
        "feature_keys": ["a", "b"],
    }
    assert train.inputs == {"examples": gen.outputs["examples"]}
    assert train.upstream_nodes == [gen]
    # The default list is copied, not shared between nodes.
    train.exec_properties["feature_keys"].append("c")
    assert _train(gen).exec_properties["feature_keys"] == ["a", "b"]


def test_float_parameter_given_int_becomes_float(gen: Gen) -> None:
    train = _train(gen, learning_rate=1)
    assert train.exec_properties["learning_rate"] == 1.0
    assert type(train.exec_properties["learning_rate"]) is float


def test_passing_none_means_not_given(gen: Gen) -> None:
    train = _train(gen, module_file=None, learning_rate=None, schema=None)
    assert "module_file" not in train.exec_properties
    assert train.exec_properties["learning_rate"] == 0.01
    assert "schema" not in train.inputs


def test_tuple_for_list_and_mapping_for_dict_are_normalized(gen: Gen) -> None:
    train = _train(gen, feature_keys=("x",), custom_config={"k": [1, 2]})
    assert train.exec_properties["feature_keys"] == ["x"]
    assert train.exec_properties["custom_config"] == {"k": [1, 2]}


def test_type_and_id(gen: Gen) -> None:
    assert gen.id == "Gen"
    assert gen.type == f"{Gen.__module__}.Gen"
    assert gen.spec is GenSpec
    assert repr(gen) == "<Gen id='Gen'>"
    assert Gen.executor_ref() == f"{TrainExecutor.__module__}:TrainExecutor"
    assert Train.executor_ref() == "some_package.executor:TrainExecutor"


# Construction: each mistake named ----------------------------------------------------------


def test_unknown_argument_suggests_the_close_key(gen: Gen) -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        _train(gen, train_step=5)
    message = str(info.value)
    assert message.startswith("Train: unknown argument 'train_step'")
    assert "(did you mean 'train_steps'?)" in message
    assert "accepted: train_steps, learning_rate" in message


def test_unknown_argument_without_a_close_match(gen: Gen) -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        _train(gen, zzz=1)
    assert "Train: unknown argument 'zzz'" in str(info.value)
    assert "did you mean" not in str(info.value)


def test_passing_an_output_key_is_refused(gen: Gen) -> None:
    with pytest.raises(
        InvalidComponentArgumentError,
        match=re.escape("Train: 'model' is an output; read it from .outputs['model']"),
    ):
        _train(gen, model=gen.outputs["examples"])


def test_wrong_artifact_type_channel(gen: Gen) -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        Train(examples=gen.outputs["statistics"], train_steps=1)
    assert str(info.value) == (
        "Train: input 'examples' expects Examples artifacts, got a channel of "
        "ExampleStatistics from Gen.outputs['statistics']"
    )


def test_input_given_a_non_channel(gen: Gen) -> None:
    with pytest.raises(InvalidComponentArgumentError, match="Train: input 'schema' expects a"):
        _train(gen, schema="/path/to/schema")


def test_missing_required_input() -> None:
    with pytest.raises(
        InvalidComponentArgumentError,
        match=re.escape("Train: missing required input 'examples' (a channel of Examples)"),
    ):
        Train(train_steps=3)


def test_missing_required_parameter(gen: Gen) -> None:
    with pytest.raises(
        InvalidComponentArgumentError,
        match=re.escape("Train: missing required parameter 'train_steps' (int)"),
    ):
        Train(examples=gen.outputs["examples"])


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("train_steps", "10", "expects int, got str '10'"),
        ("train_steps", True, "expects int, got bool True"),
        ("train_steps", 1.5, "expects int, got float 1.5"),
        ("learning_rate", "0.1", "expects float, got str"),
        ("learning_rate", False, "expects float, got bool"),
        ("use_gpu", 1, "expects bool, got int 1"),
        ("module_file", 3, "expects str, got int 3"),
        ("custom_config", ["a"], "expects dict, got list"),
        ("feature_keys", "a,b", "expects list, got str"),
    ],
)
def test_wrong_parameter_type(gen: Gen, key: str, value: object, expected: str) -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        _train(gen, **{key: value})
    message = str(info.value)
    assert message.startswith(f"Train: parameter {key!r} ")
    assert expected in message


def test_dict_parameter_must_be_json_serializable(gen: Gen) -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        _train(gen, custom_config={"when": object()})
    message = str(info.value)
    assert message.startswith("Train: parameter 'custom_config' must be JSON-serializable")
    with pytest.raises(InvalidComponentArgumentError, match="'custom_config'"):
        _train(gen, custom_config={"x": float("inf")})


def test_channel_passed_as_parameter(gen: Gen) -> None:
    with pytest.raises(
        InvalidComponentArgumentError,
        match=re.escape("Train: parameter 'module_file' takes a str value, not a channel"),
    ):
        _train(gen, module_file=gen.outputs["examples"])


def test_bare_channel_without_producer_is_refused() -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        Train(examples=Channel(type=Examples), train_steps=1)
    message = str(info.value)
    assert message.startswith("Train: input 'examples' got a Channel with no producer")
    assert "Resolver" in message


def test_bare_channel_of_wrong_type_reports_the_type() -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        Train(examples=Channel(type=Model), train_steps=1)
    assert str(info.value) == (
        "Train: input 'examples' expects Examples artifacts, got a channel of Model"
    )


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        Gen("/data")  # type: ignore[misc]


# Protobuf parameters ----------------------------------------------------------------------


def test_proto_parameter_accepts_message_dict_or_json_text(gen: Gen) -> None:
    message = descriptor_pb2.FieldDescriptorProto(name="age", number=3)
    train = _train(gen, field=message)
    assert train.exec_properties["field"] is message

    from_dict = _train(gen, field={"name": "age", "number": 3, "json_name": "Age"})
    value = from_dict.exec_properties["field"]
    assert isinstance(value, descriptor_pb2.FieldDescriptorProto)
    assert (value.name, value.number, value.json_name) == ("age", 3, "Age")

    from_text = _train(gen, field='{"name": "age", "number": 4}')
    assert from_text.exec_properties["field"].number == 4

    struct = _train(gen, extra={"layers": [1, 2], "name": "x"}).exec_properties["extra"]
    assert isinstance(struct, struct_pb2.Struct)
    assert struct["name"] == "x"
    assert list(struct["layers"]) == [1.0, 2.0]


def test_proto_parameter_rejects_unknown_fields_and_wrong_values(gen: Gen) -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        _train(gen, field={"name": "age", "colour": "red"})
    message = str(info.value)
    assert message.startswith(
        "Train: parameter 'field': not a valid google.protobuf.FieldDescriptorProto"
    )
    assert "colour" in message
    with pytest.raises(InvalidComponentArgumentError, match=r"'field'.*number"):
        _train(gen, field={"number": "three"})


def test_proto_parameter_rejects_other_types(gen: Gen) -> None:
    with pytest.raises(InvalidComponentArgumentError) as info:
        _train(gen, field=descriptor_pb2.EnumValueDescriptorProto(name="x"))
    assert str(info.value) == (
        "Train: parameter 'field' expects a FieldDescriptorProto message (or its JSON as a "
        "dict), got EnumValueDescriptorProto"
    )
    with pytest.raises(InvalidComponentArgumentError, match="expects a FieldDescriptorProto"):
        _train(gen, field=7)


def test_proto_parameter_json_form() -> None:
    param = ExecutionParameter(type=descriptor_pb2.FieldDescriptorProto)
    assert param.is_proto
    assert param.label == "proto:google.protobuf.FieldDescriptorProto"
    value = param.coerce({"name": "a", "json_name": "A"}, "here")
    assert param.to_json(value) == {"name": "a", "json_name": "A"}


# Parameter declarations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "label"),
    [
        (int, "int"),
        (float, "float"),
        (str, "str"),
        (bool, "bool"),
        (dict, "dict"),
        (dict[str, int], "dict"),
        (list, "list"),
        (list[str], "list"),
        (int | None, "int"),
        (Any, "json"),
        (struct_pb2.Struct, "proto:google.protobuf.Struct"),
    ],
)
def test_parameter_type_labels(tp: object, label: str) -> None:
    assert parameter_type_label(tp) == label


def test_unsupported_parameter_type() -> None:
    with pytest.raises(ComponentDefinitionError, match="unsupported parameter type"):
        ExecutionParameter(type=set)


def test_optional_annotation_makes_a_parameter_optional() -> None:
    param = ExecutionParameter(type=int | None)
    assert param.optional
    assert param.type is int
    assert not param.has_default
    assert ExecutionParameter(type=int, default=3).optional


def test_is_proto_class() -> None:
    assert is_proto_class(struct_pb2.Struct)
    assert not is_proto_class(struct_pb2.Struct())
    assert not is_proto_class(dict)


def test_channel_parameter_needs_an_artifact_type() -> None:
    with pytest.raises(ComponentDefinitionError, match="needs an Artifact subclass"):
        ChannelParameter(type=int)  # type: ignore[arg-type]


# Node options --------------------------------------------------------------------------------


def test_with_id(gen: Gen) -> None:
    assert gen.with_id("gen.v2-final_1") is gen
    assert gen.id == "gen.v2-final_1"
    assert gen.outputs["examples"].producer_component_id == "gen.v2-final_1"


@pytest.mark.parametrize("bad", ["", "1gen", "has space", "slash/id", "x" * 129, 5, None])
def test_with_id_validation(gen: Gen, bad: object) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=r"Gen: invalid node id"):
        gen.with_id(bad)  # type: ignore[arg-type]
    assert gen.id == "Gen"


def test_with_cache(gen: Gen) -> None:
    assert gen.enable_cache is None
    assert gen.with_cache(False) is gen
    assert gen.enable_cache is False
    gen.with_cache(True)
    assert gen.enable_cache is True
    with pytest.raises(InvalidComponentArgumentError, match="Gen: with_cache"):
        gen.with_cache(0)  # type: ignore[arg-type]
    assert gen.enable_cache is True


def test_explicit_upstream(gen: Gen) -> None:
    other = Gen(input_base="/other").with_id("other")
    train = _train(gen)
    train.add_upstream_node(other)
    train.add_upstream_node(other)
    assert train.explicit_upstream_nodes == (other,)
    assert train.upstream_nodes == [gen, other]
    other.add_downstream_node(gen)
    assert gen.upstream_nodes == [other]
    with pytest.raises(TypeError, match="add_upstream_node"):
        train.add_upstream_node("Gen")  # type: ignore[arg-type]


# Definition checks ----------------------------------------------------------------------------


def test_component_without_spec_class() -> None:
    class NoSpec(BaseComponent):
        EXECUTOR_SPEC = "a.b:C"

    with pytest.raises(ComponentDefinitionError, match="NoSpec must set SPEC_CLASS"):
        NoSpec()


def test_component_with_a_non_spec_spec_class() -> None:
    class BadSpec(BaseComponent):
        SPEC_CLASS = dict  # type: ignore[assignment]
        EXECUTOR_SPEC = "a.b:C"

    with pytest.raises(ComponentDefinitionError, match="BadSpec must set SPEC_CLASS"):
        BadSpec.check_definition()


@pytest.mark.parametrize("executor", [None, "no_colon", "a.b:", "a b:C", 42])
def test_component_with_a_bad_executor_spec(executor: object) -> None:
    class BadExecutor(BaseComponent):
        SPEC_CLASS = GenSpec

    if executor is not None:
        BadExecutor.EXECUTOR_SPEC = executor  # type: ignore[assignment]
    with pytest.raises(ComponentDefinitionError, match="BadExecutor must set EXECUTOR_SPEC"):
        BadExecutor(input_base="/x")


def test_executor_class_defined_in_a_function_is_a_definition_error() -> None:
    class LocalExecutor(BaseExecutor):
        pass

    class WithLocalExecutor(BaseComponent):
        SPEC_CLASS = GenSpec
        EXECUTOR_SPEC = LocalExecutor

    with pytest.raises(ComponentDefinitionError, match=r"WithLocalExecutor.*local scope"):
        WithLocalExecutor.check_definition()


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"INPUTS": {"examples": Examples}}, r"INPUTS\['examples'\] must be a ChannelParameter"),
        (
            {"PARAMETERS": {"x": ChannelParameter(type=Examples)}},
            r"PARAMETERS\['x'\] must be a ExecutionParameter",
        ),
        ({"OUTPUTS": {"not-an-id": ChannelParameter(type=Model)}}, "is not a Python identifier"),
        ({"OUTPUTS": [ChannelParameter(type=Model)]}, "OUTPUTS must be a dict"),
        (
            {
                "PARAMETERS": {"model": ExecutionParameter(type=str)},
                "OUTPUTS": {"model": ChannelParameter(type=Model)},
            },
            "key 'model' is declared in both PARAMETERS and OUTPUTS",
        ),
    ],
)
def test_malformed_specs(attrs: dict[str, object], message: str) -> None:
    spec = type("MalformedSpec", (ComponentSpec,), attrs)
    component = type("Malformed", (BaseComponent,), {"SPEC_CLASS": spec, "EXECUTOR_SPEC": "a.b:C"})
    with pytest.raises(ComponentDefinitionError, match=message):
        component()


def test_check_definition_result_is_per_class() -> None:
    Gen.check_definition()

    class Sub(Gen):
        EXECUTOR_SPEC = "not a reference"

    with pytest.raises(ComponentDefinitionError, match="Sub must set EXECUTOR_SPEC"):
        Sub.check_definition()


class ExportSpec(ComponentSpec):
    PARAMETERS = {"as_statistics": ExecutionParameter(type=bool, default=False)}
    INPUTS = {"examples": ChannelParameter(type=Examples)}
    OUTPUTS = {
        "model": ChannelParameter(type=Model),
        "schema": ChannelParameter(type=Schema, optional=True),
        "statistics": ChannelParameter(type=ExampleStatistics, optional=True),
    }


class Export(BaseComponent):
    SPEC_CLASS = ExportSpec
    EXECUTOR_SPEC = "some_package.executor:ExportExecutor"

    @classmethod
    def selected_outputs(cls, exec_properties: Mapping[str, Any]) -> Collection[str]:
        return ["statistics"] if exec_properties["as_statistics"] else ["schema"]


def test_optional_outputs_are_selected_by_the_parameters() -> None:
    from headrace_core import Pipeline
    from headrace_core import ir as ir_mod

    producer = Gen(input_base="/data")
    examples = producer.outputs["examples"]
    # Required outputs are always there; the optional ones only when selected (TFX's unset).
    assert set(Export(examples=examples).outputs) == {"model", "schema"}
    node = Export(examples=examples, as_statistics=True)
    assert set(node.outputs) == {"model", "statistics"}
    with pytest.raises(InvalidComponentArgumentError, match="'schema' is an output"):
        Export(examples=examples, schema=producer.outputs["statistics"])

    export = Export(examples=producer.outputs["examples"], as_statistics=True)
    document = ir_mod.compile(Pipeline("p", "/tmp/root", [producer, export]))
    [entry] = [n for n in document["nodes"] if n["id"] == "Export"]
    assert set(entry["outputs"]) == {"model", "statistics"}
    assert entry["outputs"]["statistics"]["optional"] is True
    # Rebuilt from the IR, the node selects the same outputs.
    assert ir_mod.compile(ir_mod.load(ir_mod.dumps(document))) == document


def test_config_dict_takes_a_message_its_json_or_a_dict() -> None:
    from headrace_core.component import config_dict

    message = descriptor_pb2.FieldDescriptorProto(name="x", number=3)
    expected = {"name": "x", "number": 3}
    assert config_dict(message, "C: p", expected="E") == expected
    assert config_dict('{"name": "x", "number": 3}', "C: p", expected="E") == expected
    assert config_dict(expected, "C: p", expected="E") == expected
    assert config_dict("  ", "C: p", expected="E") == {}
    with pytest.raises(InvalidComponentArgumentError, match="C: p is not valid JSON"):
        config_dict("{x", "C: p", expected="E")
    with pytest.raises(InvalidComponentArgumentError, match=r"^C: p takes E, got list \[1\]$"):
        config_dict([1], "C: p", expected="E")
