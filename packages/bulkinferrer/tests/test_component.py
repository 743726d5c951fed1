"""The component: TFX's names, every accepted form of its parameters, the outputs each form
selects, argument checks, the IR and the plugin contract. Nothing here runs a model."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from headrace_bulkinferrer import BulkInferrer, BulkInferrerSpec, __version__
from headrace_core import (
    Examples,
    Importer,
    InferenceResult,
    InvalidComponentArgumentError,
    Model,
    ModelBlessing,
    Pipeline,
)
from headrace_core import ir as ir_mod
from headrace_core.testing import check_distribution, tfx_message_class

PREDICT_SPEC = {
    "output_columns_spec": [
        {"predict_output": {"output_columns": [{"output_key": "logits", "output_column": "p"}]}}
    ]
}


def _importers() -> tuple[Importer, Importer, Importer]:
    examples = Importer(
        source_uri="/data/examples",
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("examples")
    model = Importer(source_uri="/data/model", artifact_type=Model).with_id("model")
    blessing = Importer(source_uri="/data/blessing", artifact_type=ModelBlessing).with_id("b")
    return examples, model, blessing


def _inferrer(**kwargs: Any) -> BulkInferrer:
    examples, model, _ = _importers()
    return BulkInferrer(
        examples=examples.outputs["result"], model=model.outputs["result"], **kwargs
    )


def test_tfx_names() -> None:
    assert set(BulkInferrerSpec.INPUTS) == {"examples", "model", "model_blessing"}
    assert not BulkInferrerSpec.INPUTS["examples"].optional
    assert BulkInferrerSpec.INPUTS["model"].optional  # TFX's spec; the executor requires it
    assert BulkInferrerSpec.INPUTS["model_blessing"].optional
    assert set(BulkInferrerSpec.PARAMETERS) == {"data_spec", "model_spec", "output_example_spec"}
    assert BulkInferrerSpec.OUTPUTS["inference_result"].type is InferenceResult
    assert BulkInferrerSpec.OUTPUTS["output_examples"].type is Examples
    assert BulkInferrer.EXECUTOR_ENV == {"TF_USE_LEGACY_KERAS": "1"}
    assert __version__ == "0.1.0"


def test_outputs_follow_output_example_spec() -> None:
    # TFX's rule: PredictionLogs without an output_example_spec, examples with one.
    plain = _inferrer()
    assert set(plain.outputs) == {"inference_result"}
    assert plain.exec_properties == {"data_spec": {}, "model_spec": {}}
    assert set(_inferrer(output_example_spec={}).outputs) == {"inference_result"}
    assert set(_inferrer(output_example_spec=PREDICT_SPEC).outputs) == {"output_examples"}


def _compiled(node: BulkInferrer) -> dict[str, Any]:
    document = ir_mod.compile(Pipeline("p", "/tmp/root", [*node.upstream_nodes, node]))
    [entry] = [n for n in document["nodes"] if n["id"] == "BulkInferrer"]
    return entry


def test_ir_round_trip_keeps_the_selected_output() -> None:
    for spec, output in ((None, "inference_result"), (PREDICT_SPEC, "output_examples")):
        entry = _compiled(_inferrer(output_example_spec=spec))
        assert list(entry["outputs"]) == [output]
        assert entry["outputs"][output]["optional"] is True
    node = _inferrer(output_example_spec=PREDICT_SPEC, data_spec={"example_splits": ["eval"]})
    pipeline = Pipeline("p", "/tmp/root", [*node.upstream_nodes, node])
    document = ir_mod.compile(pipeline)
    ir_mod.validate(document)
    again = ir_mod.compile(ir_mod.load(ir_mod.dumps(document)))
    assert again == document
    [entry] = [n for n in again["nodes"] if n["id"] == "BulkInferrer"]
    assert list(entry["outputs"]) == ["output_examples"]


def test_every_form_gives_one_ir() -> None:
    data_spec = tfx_message_class("tfx.components.bulkinferrer.DataSpec", {"example_splits": 2})
    model_spec = tfx_message_class(
        "tfx.components.bulkinferrer.ModelSpec", {"model_signature_name": 2, "tag": 5}
    )
    forms = [
        ({"example_splits": ["eval"]}, {"model_signature_name": ["scores"], "tag": ["serve"]}),
        ('{"example_splits": ["eval"]}', '{"model_signature_name": ["scores"], "tag": ["serve"]}'),
        (
            data_spec(example_splits=["eval"]),
            model_spec(model_signature_name=["scores"], tag=["serve"]),
        ),
    ]
    entries = [_compiled(_inferrer(data_spec=d, model_spec=m)) for d, m in forms]
    assert entries[0]["parameters"] == {
        "data_spec": {"example_splits": ["eval"]},
        "model_spec": {"model_signature_name": ["scores"], "tag": ["serve"]},
    }
    assert entries[1] == entries[0] and entries[2] == entries[0]
    # Empty messages are the defaults, as TFX's `data_spec or DataSpec()`.
    assert _inferrer(data_spec=data_spec(), model_spec=model_spec()).exec_properties == {
        "data_spec": {},
        "model_spec": {},
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data_spec": {"splits": ["eval"]}}, "data_spec: unknown field 'splits'"),
        ({"data_spec": {"example_splits": "eval"}}, "example_splits must be a list"),
        ({"data_spec": {"example_splits": ["a", "a"]}}, "names one twice"),
        ({"data_spec": "{not json"}, "data_spec is not valid JSON"),
        ({"data_spec": 3}, "takes a bulk_inferrer_pb2 message or a dict"),
        ({"model_spec": {"signature_name": ["x"]}}, "did you mean 'model_signature_name'"),
        ({"model_spec": {"tag": [""]}}, "must hold non-empty names"),
        (
            {"output_example_spec": {"output_columns_spec": [{}]}},
            r"output_columns_spec\[0\] needs exactly one of classify_output",
        ),
        (
            {"output_example_spec": {"output_columns_spec": [{"regress_output": {}}]}},
            "regress_output names no column",
        ),
        (
            {
                "output_example_spec": {
                    "output_columns_spec": [{"predict_output": {"output_columns": []}}]
                }
            },
            "output_columns must list at least one",
        ),
        (
            {
                "output_example_spec": {
                    "output_columns_spec": [
                        {"predict_output": {"output_columns": [{"output_key": "logits"}]}}
                    ]
                }
            },
            r"output_columns\[0\].output_column must be a non-empty name",
        ),
        (
            {
                "output_example_spec": {
                    "output_columns_spec": [
                        {"signature_name": "a", "classify_output": {"label_column": "c"}},
                        {"signature_name": "b", "regress_output": {"value_column": "c"}},
                    ]
                }
            },
            "names an output column twice",
        ),
        (
            {
                "output_example_spec": {
                    "output_columns_spec": [
                        {"classify_output": {"label_column": "c"}},
                        {"regress_output": {"value_column": "v"}},
                    ]
                }
            },
            "two output_columns_spec entries are for the same signature",
        ),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=message):
        _inferrer(**kwargs)


def test_wrong_inputs() -> None:
    examples, model, blessing = _importers()
    with pytest.raises(InvalidComponentArgumentError, match="missing required input 'examples'"):
        BulkInferrer(examples=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidComponentArgumentError, match="input 'model_blessing' expects"):
        BulkInferrer(
            examples=examples.outputs["result"],
            model=model.outputs["result"],
            model_blessing=model.outputs["result"],
        )
    node = BulkInferrer(
        examples=examples.outputs["result"],
        model=model.outputs["result"],
        model_blessing=blessing.outputs["result"],
    )
    assert set(node.inputs) == {"examples", "model", "model_blessing"}


def test_constructing_imports_no_tensorflow() -> None:
    script = f"""
import json, sys
from headrace_core import Examples, Importer, Model
from headrace_bulkinferrer import BulkInferrer
examples = Importer(source_uri="/e", artifact_type=Examples).with_id("e")
model = Importer(source_uri="/m", artifact_type=Model).with_id("m")
spec = {PREDICT_SPEC!r}
BulkInferrer(examples.outputs["result"], model.outputs["result"], output_example_spec=spec)
heavy = ("tensorflow", "apache_beam", "tfx_bsl", "keras", "tensorflow_serving")
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}})))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_conformance() -> None:
    assert check_distribution("headrace-bulkinferrer") == ["BulkInferrer"]
