"""The component: TFX's names, its parameters in every form, the checks, the plugin contract.
Nothing here starts a server."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from headrace_core import Examples, Importer, InfraBlessing, InvalidComponentArgumentError, Model
from headrace_core.testing import check_distribution
from headrace_infravalidator import InfraValidator, InfraValidatorSpec, __version__


def _node(**kwargs: Any) -> InfraValidator:
    model = Importer(source_uri="/m", artifact_type=Model).with_id("m")
    arguments: dict[str, Any] = {"serving_spec": {"tensorflow_serving": {"tags": ["latest"]}}}
    return InfraValidator(model=model.outputs["result"], **{**arguments, **kwargs})


def test_tfx_names() -> None:
    assert set(InfraValidatorSpec.INPUTS) == {"model", "examples"}
    assert InfraValidatorSpec.INPUTS["examples"].optional
    assert set(InfraValidatorSpec.PARAMETERS) == {"serving_spec", "validation_spec", "request_spec"}
    assert InfraValidatorSpec.OUTPUTS["blessing"].type is InfraBlessing
    assert __version__ == "0.1.0"


def test_every_form_gives_one_canonical_parameter() -> None:
    as_dict = _node(
        serving_spec={"local_docker": {}, "tensorflow_serving": {"tags": ["latest"]}},
        validation_spec={"num_tries": 3},
        request_spec={"tensorflow_serving": {"signature_names": ["serving_default"]}},
    )
    as_json = _node(
        serving_spec='{"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}}',
        validation_spec='{"num_tries": "3"}',
        request_spec='{"tensorflow_serving": {"signature_names": ["serving_default"]}}',
    )
    assert (
        as_dict.exec_properties
        == as_json.exec_properties
        == {
            "serving_spec": {"local_docker": {}, "tensorflow_serving": {"tags": ["latest"]}},
            "validation_spec": {"num_tries": 3},
            "request_spec": {"tensorflow_serving": {"signature_names": ["serving_default"]}},
        }
    )
    assert _node().exec_properties["validation_spec"] == {}  # TFX's defaults at run time


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"serving_spec": None}, "serving_spec is required"),
        ({"serving_spec": {"tensorflow_servin": {}}}, "did you mean 'tensorflow_serving'"),
        ({"serving_spec": {"local_docker": {}, "kubernetes": {}}}, "names two platforms"),
        ({"validation_spec": {"num_tries": -1}}, r"num_tries must be an int >= 1"),
        ({"request_spec": {"num_examples": 3}}, "request_spec needs tensorflow_serving"),
        (
            {"request_spec": {"tensorflow_serving": {}, "make_warmup": "yes"}},
            "request_spec.make_warmup must be a bool, got 'yes'",
        ),
        (
            {
                "request_spec": {
                    "tensorflow_serving": {"signature_names": ["a", "b"]},
                    "num_examples": 501,
                    "make_warmup": True,
                }
            },
            "make_warmup: num_examples x signature_names is 1002 warm-up requests; TF Serving "
            "reads at most 1000",
        ),
        (
            {"request_spec": {"tensorflow_serving": {"signature_names": "x"}}},
            "signature_names must be a list of strings",
        ),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=message):
        _node(**kwargs)


def test_make_warmup_in_every_form() -> None:
    # TFX's message form is checked in headrace-tfx, which owns the proto classes.
    forms = [
        '{"tensorflow_serving": {}, "num_examples": 2, "make_warmup": true}',
        {"tensorflow_serving": {}, "num_examples": 2, "make_warmup": True},
    ]
    for form in forms:
        node = _node(request_spec=form)
        assert node.exec_properties["request_spec"] == {
            "tensorflow_serving": {},
            "num_examples": 2,
            "make_warmup": True,
        }
    # Unset or false: the canonical spec it always had, so existing pipelines keep their key.
    for off in ({"tensorflow_serving": {}}, {"tensorflow_serving": {}, "make_warmup": False}):
        assert _node(request_spec=off).exec_properties["request_spec"] == {"tensorflow_serving": {}}
    assert set(_node().outputs) == {"blessing"}


def test_examples_input() -> None:
    examples = Importer(source_uri="/e", artifact_type=Examples).with_id("e")
    node = _node(examples=examples.outputs["result"])
    assert set(node.inputs) == {"model", "examples"}


def test_constructing_imports_no_tensorflow() -> None:
    script = """
import json, sys
from headrace_core import Importer, Model
from headrace_infravalidator import InfraValidator
model = Importer(source_uri="/m", artifact_type=Model).with_id("m")
InfraValidator(model=model.outputs["result"], serving_spec={"tensorflow_serving": {}})
heavy = ("tensorflow", "keras", "apache_beam")
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy})))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_conformance() -> None:
    assert check_distribution("headrace-infravalidator") == ["InfraValidator"]
