"""The component: TFX's names, every accepted form of its parameters, argument checks, the IR
and the plugin contract. Nothing here tunes a model."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from headrace_core import (
    Examples,
    HyperParameters,
    Importer,
    InvalidComponentArgumentError,
    Pipeline,
    TunerResults,
)
from headrace_core import ir as ir_mod
from headrace_core.testing import check_distribution
from headrace_tuner import Tuner, TunerFnResult, TunerSpec, __version__

EXAMPLES = Importer(source_uri="/data/examples", artifact_type=Examples).with_id("examples")


def _tuner(**kwargs: Any) -> Tuner:
    kwargs.setdefault("module_file", "/m/tuner_module.py")
    return Tuner(examples=EXAMPLES.outputs["result"], **kwargs)


def _ir(tuner: Tuner) -> dict[str, Any]:
    pipeline = Pipeline("p", "/root", [EXAMPLES, tuner])
    document = ir_mod.compile(pipeline)
    ir_mod.validate(document)
    [node] = [n for n in document["nodes"] if n["id"] == "Tuner"]
    return dict(node["parameters"])


def test_tfx_names() -> None:
    assert set(TunerSpec.INPUTS) == {"examples", "schema", "transform_graph", "base_model"}
    assert set(TunerSpec.OUTPUTS) == {"best_hyperparameters", "tuner_results"}
    assert TunerSpec.OUTPUTS["best_hyperparameters"].type is HyperParameters
    assert TunerSpec.OUTPUTS["tuner_results"].type is TunerResults
    assert set(TunerSpec.PARAMETERS) == {
        "module_file",
        "tuner_fn",
        "train_args",
        "eval_args",
        "tune_args",
        "custom_config",
    }
    assert TunerFnResult(tuner="t", fit_kwargs={"x": 1})._fields == ("tuner", "fit_kwargs")
    assert __version__


def test_every_form_gives_one_ir() -> None:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    file = descriptor_pb2.FileDescriptorProto(
        name="headrace_testing/tuner.proto", package="tfx.components.tuner", syntax="proto3"
    )
    message = file.message_type.add(name="TuneArgs")
    message.field.add(
        name="num_parallel_trials",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    tune_args = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tfx.components.tuner.TuneArgs")
    )
    forms = [
        {"num_parallel_trials": 1},
        '{"num_parallel_trials": 1}',
        tune_args(num_parallel_trials=1),
    ]
    irs = [_ir(_tuner(tune_args=f, train_args={"num_steps": 20})) for f in forms]
    assert irs[0] == irs[1] == irs[2]
    assert irs[0]["tune_args"] == {"num_parallel_trials": 1}
    assert irs[0]["train_args"] == {"num_steps": 20}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"module_file": None}, "give exactly one of module_file"),
        ({"tuner_fn": "m.tuner_fn"}, "give exactly one of module_file"),
        ({"module_file": None, "tuner_fn": "no dots"}, "tuner_fn must be 'package.module"),
        ({"tune_args": {"num_parallel_trials": 4}}, "runs one trial at a time"),
        ({"tune_args": {"num_paralel_trials": 1}}, "did you mean 'num_parallel_trials'"),
        ({"tune_args": {"num_parallel_trials": "two"}}, "non-negative int"),
        ({"train_args": {"num_step": 3}}, "Tuner: train_args: unknown field 'num_step'"),
        ({"eval_args": 5}, "Tuner: eval_args takes"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=message):
        _tuner(**kwargs)


def test_module_file_is_made_absolute(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _ir(_tuner(module_file="tuner_module.py"))["module_file"] == str(
        tmp_path / "tuner_module.py"
    )


def test_constructing_imports_no_tensorflow() -> None:
    script = """
import json, sys
from headrace_core import Examples, Importer
from headrace_tuner import Tuner
examples = Importer(source_uri="/e", artifact_type=Examples).with_id("e")
Tuner(examples=examples.outputs["result"], module_file="/m.py", train_args={"num_steps": 2})
heavy = ("tensorflow", "keras", "keras_tuner", "tf_keras", "tfx_bsl")
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy})))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_conformance() -> None:
    assert check_distribution("headrace-tuner") == ["Tuner"]
