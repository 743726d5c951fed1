"""Function components: ``@component`` turns a module-level function into a component class."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

import hrcore_components
import pytest
from google.protobuf import descriptor_pb2, struct_pb2

from headrace_core import (
    Artifact,
    Boolean,
    Bytes,
    ComponentDefinitionError,
    Examples,
    ExecutorContext,
    Float,
    InputArtifact,
    Integer,
    InvalidComponentArgumentError,
    JsonValue,
    Model,
    OutputArtifact,
    Parameter,
    String,
    ValueArtifact,
    component,
)
from headrace_core.function import FunctionComponent, FunctionExecutor

# Components under test: module level, as @component requires. ------------------------------


@component
def Train(
    examples: InputArtifact[Examples],
    model: OutputArtifact[Model],
    steps: Parameter[int] = 10,
    rate: Parameter[float] = 0.5,
    field: Parameter[descriptor_pb2.EnumValueDescriptorProto] = None,  # type: ignore[assignment]
    base: InputArtifact[Model] = None,  # type: ignore[assignment]
) -> None:
    """Writes what it was given into the model directory."""
    Path(model.uri).mkdir(parents=True, exist_ok=True)
    record = {
        "examples": examples.uri,
        "split_names": examples.split_names,
        "steps": steps,
        "rate": rate,
        "field": [field.name, field.number] if field is not None else None,
        "base": base.uri if base is not None else None,
    }
    (Path(model.uri) / "record.json").write_text(json.dumps(record))
    model.set_int_custom_property("steps", steps)


@component
def Plain(
    count: int,
    ratio: float,
    name: str,
    flag: bool,
    blob: bytes,
    config: dict,  # type: ignore[type-arg]
    items: list,  # type: ignore[type-arg]
    scale: float = 2.0,
    note: str | None = None,
) -> str:
    return json.dumps(
        {
            "count": count,
            "ratio": ratio,
            "name": name,
            "flag": flag,
            "blob": blob.decode(),
            "config": config,
            "items": items,
            "scale": scale,
            "note": note,
        },
        sort_keys=True,
    )


class Stats(TypedDict):
    total: int
    mean: float
    ok: bool
    raw: bytes
    summary: dict  # type: ignore[type-arg]


@component
def Describe(values: list, label: Parameter[str] = "values") -> Stats:  # type: ignore[type-arg]
    total = sum(values)
    return {
        "total": total,
        "mean": total / len(values),
        "ok": total > 0,
        "raw": bytes(values),
        "summary": {"label": label, "n": len(values)},
    }


@component
def Sink(text: str) -> None:
    """Returns nothing: no outputs."""


@component
def ReturnsWrong(n: int) -> int:
    return "not an int"  # type: ignore[return-value]


@component
def ReturnsNone(n: int) -> int:
    return None  # type: ignore[return-value]


class Partial(TypedDict):
    a: int
    b: str


@component
def ReturnsPartial(n: int) -> Partial:
    return {"a": n}  # type: ignore[typeddict-item]


@component()
def WithParentheses(x: Parameter[dict]) -> dict:  # type: ignore[type-arg]
    return x


# Helpers -----------------------------------------------------------------------------------


def _value(cls: type[ValueArtifact], uri: Path, value: object) -> ValueArtifact:
    artifact = cls(str(uri))
    artifact.write(value)
    return artifact


def _run(
    comp: type[FunctionComponent],
    inputs: dict[str, list[Artifact]],
    outputs: dict[str, list[Artifact]],
    exec_properties: dict[str, Any] | None = None,
    tmp_path: Path | None = None,
) -> None:
    context = ExecutorContext(
        pipeline_name="p",
        pipeline_root=str(tmp_path or "/tmp"),
        run_id="run-1",
        node_id=comp.__name__,
        execution_id=1,
        tmp_dir=str((tmp_path or Path("/tmp")) / "executor_tmp"),
    )
    executor = comp.Executor(context)  # type: ignore[attr-defined]
    assert isinstance(executor, FunctionExecutor)
    assert executor.context.node_id == comp.__name__
    executor.Do(inputs, outputs, exec_properties or {})


# Definition ------------------------------------------------------------------------------------


def test_artifacts_and_parameters_become_the_spec() -> None:
    assert issubclass(Train, FunctionComponent)
    spec = Train.SPEC_CLASS
    assert {k: (p.label, p.optional, p.default) for k, p in spec.PARAMETERS.items()} == {
        "steps": ("int", True, 10),
        "rate": ("float", True, 0.5),
        "field": ("proto:google.protobuf.EnumValueDescriptorProto", True, None),
    }
    assert {k: (c.type, c.optional) for k, c in spec.INPUTS.items()} == {
        "examples": (Examples, False),
        "base": (Model, True),
    }
    assert {k: c.type for k, c in spec.OUTPUTS.items()} == {"model": Model}
    assert Train.__doc__ == "Writes what it was given into the model directory."
    assert Train.__module__ == __name__
    assert f"{__name__}:Train.Executor" == Train.EXECUTOR_SPEC
    assert Train.executor_ref() == f"{__name__}:Train.Executor"
    assert Train.function().__name__ == "Train"


def test_plain_arguments_are_value_artifact_inputs() -> None:
    spec = Plain.SPEC_CLASS
    assert spec.PARAMETERS == {}
    assert {k: (c.type, c.optional) for k, c in spec.INPUTS.items()} == {
        "count": (Integer, False),
        "ratio": (Float, False),
        "name": (String, False),
        "flag": (Boolean, False),
        "blob": (Bytes, False),
        "config": (JsonValue, False),
        "items": (JsonValue, False),
        "scale": (Float, True),
        "note": (String, True),
    }
    assert {k: c.type for k, c in spec.OUTPUTS.items()} == {"output": String}
    assert Plain.RETURNS == ("output",)
    assert not Plain.RETURNS_MAPPING


def test_typed_dict_return_gives_one_output_per_field() -> None:
    outputs = Describe.SPEC_CLASS.OUTPUTS
    assert {k: c.type for k, c in outputs.items()} == {
        "total": Integer,
        "mean": Float,
        "ok": Boolean,
        "raw": Bytes,
        "summary": JsonValue,
    }
    assert Describe.RETURNS_MAPPING
    assert Describe.RETURNS == ("total", "mean", "ok", "raw", "summary")
    assert Sink.SPEC_CLASS.OUTPUTS == {}
    assert WithParentheses.SPEC_CLASS.PARAMETERS["x"].label == "dict"


def test_instances_validate_like_any_component() -> None:
    gen = hrcore_components.ExampleGen(input_base="/data")
    train = Train(examples=gen.outputs["examples"], steps=5, rate=1)
    assert train.exec_properties == {"steps": 5, "rate": 1.0}
    assert train.outputs["model"].type is Model
    assert train.id == "Train"
    with pytest.raises(InvalidComponentArgumentError, match="Train: parameter 'steps' expects int"):
        Train(examples=gen.outputs["examples"], steps="5")
    with pytest.raises(InvalidComponentArgumentError, match="Train: missing required input"):
        Train(steps=5)

    count = hrcore_components.CountSplits(examples=gen.outputs["examples"])
    assert count.outputs["output"].type is Integer
    summary = hrcore_components.Summarize(count=count.outputs["output"])
    assert set(summary.outputs) == {"message", "passed"}
    with pytest.raises(InvalidComponentArgumentError, match="Summarize: input 'count' expects"):
        hrcore_components.Summarize(count=summary.outputs["message"])


def test_proto_parameter_in_a_function_component() -> None:
    gen = hrcore_components.ExampleGen(input_base="/data")
    train = Train(examples=gen.outputs["examples"], field={"name": "RED", "number": 1})
    field = train.exec_properties["field"]
    assert isinstance(field, descriptor_pb2.EnumValueDescriptorProto)
    assert field.name == "RED"
    with pytest.raises(InvalidComponentArgumentError, match="Train: parameter 'field'"):
        Train(examples=gen.outputs["examples"], field={"nam": "RED"})


# Refusals ------------------------------------------------------------------------------------


def test_function_defined_inside_another_function_is_refused() -> None:
    def inner(x: int) -> int:
        return x

    with pytest.raises(ComponentDefinitionError) as info:
        component(inner)
    message = str(info.value)
    assert "inner" in message
    assert "defined inside another function" in message
    assert "module level" in message


def test_lambda_is_refused() -> None:
    with pytest.raises(ComponentDefinitionError, match="a lambda cannot be a component"):
        component(lambda x: x)


def test_method_is_refused() -> None:
    class Holder:
        @staticmethod
        def method(x: int) -> int:
            return x

    with pytest.raises(ComponentDefinitionError):
        component(Holder.method)


def test_non_function_is_refused() -> None:
    with pytest.raises(ComponentDefinitionError, match="decorates a function"):
        component(len)  # type: ignore[arg-type]


def _definition_error(source: str) -> str:
    """Define ``source`` as a module-level function of a scratch module, decorate it."""
    namespace: dict[str, Any] = {
        "__name__": "hrcore_scratch",
        "InputArtifact": InputArtifact,
        "OutputArtifact": OutputArtifact,
        "Parameter": Parameter,
        "Examples": Examples,
        "Model": Model,
    }
    exec(compile(source, "<scratch>", "exec"), namespace)
    func = next(v for k, v in namespace.items() if k.startswith("f_"))
    with pytest.raises(ComponentDefinitionError) as info:
        component(func)
    return str(info.value)


def test_missing_annotation_is_refused() -> None:
    message = _definition_error("def f_missing(x, y: int) -> int:\n    return y\n")
    assert "function component hrcore_scratch.f_missing" in message
    assert "argument 'x' has no type annotation" in message


def test_star_args_are_refused() -> None:
    message = _definition_error("def f_star(*values: int) -> int:\n    return 0\n")
    assert "f_star: *args and **kwargs are not supported" in message
    message = _definition_error("def f_kw(**options: int) -> int:\n    return 0\n")
    assert "*args and **kwargs are not supported" in message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f_set(x: set) -> int: ...", "argument 'x' has unsupported annotation"),
        ("def f_obj(x: object) -> int: ...", "argument 'x' has unsupported annotation"),
        ("def f_ret(x: int) -> set: ...", "unsupported return annotation"),
        ("def f_art(x: InputArtifact[int]) -> None: ...", "input_artifact needs an Artifact"),
        ("def f_out(x: OutputArtifact[str]) -> None: ...", "output_artifact needs an Artifact"),
        ("def f_par(x: Parameter[set]) -> None: ...", "parameter 'x': unsupported parameter"),
        (
            "def f_def(x: InputArtifact[Examples] = 3) -> None: ...",
            "input artifact 'x' may only default to None",
        ),
        ("def f_clash(output: int) -> int: ...", "output 'output' has the same name"),
        ("def f_name(x: 'Undefined') -> int: ...", "cannot resolve type annotations"),
    ],
)
def test_unsupported_annotations_are_refused(source: str, expected: str) -> None:
    message = _definition_error(source)
    assert expected in message
    assert "hrcore_scratch.f_" in message


def test_unsupported_typed_dict_field_is_refused() -> None:
    message = _definition_error(
        "from typing import TypedDict\n"
        "class Out(TypedDict):\n    good: int\n    bad: set\n"
        "def f_td(x: int) -> Out: ...\n"
    )
    assert "return field 'bad' has unsupported type" in message


# Running the generated executor ----------------------------------------------------------------


def test_executor_passes_artifacts_and_parameters(tmp_path: Path) -> None:
    examples = Examples(str(tmp_path / "examples"), properties={"split_names": '["train"]'})
    model = Model(str(tmp_path / "model"))
    base = Model(str(tmp_path / "base"))
    _run(
        Train,
        {"examples": [examples], "base": [base]},
        {"model": [model]},
        {"steps": 3, "field": {"name": "BLUE", "number": 2}},
        tmp_path,
    )
    record = json.loads((tmp_path / "model" / "record.json").read_text())
    assert record == {
        "examples": str(tmp_path / "examples"),
        "split_names": '["train"]',
        "steps": 3,
        "rate": 0.5,  # the default: not in exec_properties
        "field": ["BLUE", 2],
        "base": str(tmp_path / "base"),
    }
    assert model.get_custom_property("steps") == 3


def test_executor_accepts_proto_parameter_as_message_or_json_text(tmp_path: Path) -> None:
    for i, field in enumerate(
        [descriptor_pb2.EnumValueDescriptorProto(name="A", number=1), '{"name": "A", "number": 1}']
    ):
        model = Model(str(tmp_path / f"model{i}"))
        _run(
            Train,
            {"examples": [Examples(str(tmp_path / "e"))]},
            {"model": [model]},
            {"field": field},
            tmp_path,
        )
        record = json.loads((tmp_path / f"model{i}" / "record.json").read_text())
        assert record["field"] == ["A", 1]
        assert record["base"] is None


def test_executor_reads_and_writes_value_artifacts(tmp_path: Path) -> None:
    inputs: dict[str, list[Artifact]] = {
        "count": [_value(Integer, tmp_path / "count", 3)],
        "ratio": [_value(Float, tmp_path / "ratio", 0.75)],
        "name": [_value(String, tmp_path / "name", "rows")],
        "flag": [_value(Boolean, tmp_path / "flag", True)],
        "blob": [_value(Bytes, tmp_path / "blob", b"raw")],
        "config": [_value(JsonValue, tmp_path / "config", {"depth": 2})],
        "items": [_value(JsonValue, tmp_path / "items", [1, "two"])],
        "note": [],
    }
    output = String(str(tmp_path / "out"))
    _run(Plain, inputs, {"output": [output]}, {}, tmp_path)
    written = (tmp_path / "out" / "value").read_text()
    assert json.loads(written) == {
        "count": 3,
        "ratio": 0.75,
        "name": "rows",
        "flag": True,
        "blob": "raw",
        "config": {"depth": 2},
        "items": [1, "two"],
        "scale": 2.0,
        "note": None,
    }
    assert output.value == written
    assert output.get_custom_property("value") == written


def test_executor_writes_each_typed_dict_field(tmp_path: Path) -> None:
    outputs: dict[str, list[Artifact]] = {
        "total": [Integer(str(tmp_path / "total"))],
        "mean": [Float(str(tmp_path / "mean"))],
        "ok": [Boolean(str(tmp_path / "ok"))],
        "raw": [Bytes(str(tmp_path / "raw"))],
        "summary": [JsonValue(str(tmp_path / "summary"))],
    }
    values = _value(JsonValue, tmp_path / "values", [1, 2, 3])
    _run(Describe, {"values": [values]}, outputs, {"label": "xs"}, tmp_path)
    assert (tmp_path / "total" / "value").read_text() == "6"
    assert (tmp_path / "mean" / "value").read_text() == "2.0"
    assert (tmp_path / "ok" / "value").read_text() == "1"
    assert (tmp_path / "raw" / "value").read_bytes() == b"\x01\x02\x03"
    assert json.loads((tmp_path / "summary" / "value").read_text()) == {"label": "xs", "n": 3}
    assert outputs["total"][0].get_custom_property("value") == 6
    assert outputs["ok"][0].get_custom_property("value") == 1
    # Read back from disk by fresh artifacts, as the next node would.
    assert Float(str(tmp_path / "mean")).value == 2.0
    assert Boolean(str(tmp_path / "ok")).value is True


def test_executor_of_a_fixture_module_component(tmp_path: Path) -> None:
    examples = Examples(str(tmp_path / "e"), properties={"split_names": '["a", "b", "c"]'})
    out = Integer(str(tmp_path / "n"))
    hrcore_components.CountSplits.Executor(ExecutorContext()).Do(
        {"examples": [examples]}, {"output": [out]}, {"factor": 2}
    )
    assert Integer(out.uri).value == 6

    report = String(str(tmp_path / "report"))
    hrcore_components.WriteReport.Executor(ExecutorContext()).Do(
        {
            "model": [Model("/models/1")],
            "message": [_value(String, tmp_path / "msg", "fine")],
        },
        {"report": [report]},
        {"title": "daily", "options": {"k": "v"}},
    )
    assert String(report.uri).value == 'daily: fine {"k": "v"} (/models/1)'


def test_executor_without_outputs(tmp_path: Path) -> None:
    _run(Sink, {"text": [_value(String, tmp_path / "t", "x")]}, {}, {}, tmp_path)


def test_executor_reports_bad_return_values(tmp_path: Path) -> None:
    n = _value(Integer, tmp_path / "n", 1)
    with pytest.raises(TypeError, match="a Integer artifact holds int, got str"):
        _run(ReturnsWrong, {"n": [n]}, {"output": [Integer(str(tmp_path / "o1"))]})
    with pytest.raises(ValueError, match="ReturnsNone returned no value for output 'output'"):
        _run(ReturnsNone, {"n": [n]}, {"output": [Integer(str(tmp_path / "o2"))]})
    with pytest.raises(ValueError, match="ReturnsPartial returned no value for output 'b'"):
        _run(
            ReturnsPartial,
            {"n": [n]},
            {"a": [Integer(str(tmp_path / "a"))], "b": [String(str(tmp_path / "b"))]},
        )


def test_executor_needs_exactly_one_artifact_per_key(tmp_path: Path) -> None:
    n = _value(Integer, tmp_path / "n", 1)
    with pytest.raises(ValueError, match="ReturnsWrong: 'n' received 2 artifacts"):
        _run(ReturnsWrong, {"n": [n, n]}, {"output": [Integer(str(tmp_path / "o"))]})
    with pytest.raises(ValueError, match="ReturnsWrong: no artifact for 'n'"):
        _run(ReturnsWrong, {}, {"output": [Integer(str(tmp_path / "o"))]})
    with pytest.raises(ValueError, match="Sink: no artifact for 'text'"):
        _run(Sink, {"text": []}, {})


def test_struct_parameter_reaches_the_function(tmp_path: Path) -> None:
    report = String(str(tmp_path / "r"))
    options = struct_pb2.Struct()
    options.update({"a": 1})
    hrcore_components.WriteReport.Executor().Do(
        {"model": [Model("/m")], "message": [_value(String, tmp_path / "msg", "hi")]},
        {"report": [report]},
        {"options": options},
    )
    assert report.value == 'report: hi {"a": 1.0} (/m)'
