"""The component: TFX's names, every accepted form of its parameters, argument checks, the
IR and the plugin contract. Nothing here imports TensorFlow or runs Beam."""

from __future__ import annotations

import json
from typing import Any

import pytest
from examplediff_testing import TFX_CONFIG, example_diff_messages

from headrace_core import Examples, ExamplesDiff, Importer, InvalidComponentArgumentError, Pipeline
from headrace_core import ir as ir_mod
from headrace_core.testing import check_distribution, imported_heavy_modules
from headrace_examplediff import (
    ExampleDiff,
    ExampleDiffSpec,
    __version__,
    normalize_config,
    normalize_include_split_pairs,
)


def _importers() -> tuple[Importer, Importer]:
    test = Importer(
        source_uri="/data/test", artifact_type=Examples, properties={"split_names": '["train"]'}
    ).with_id("test")
    base = Importer(
        source_uri="/data/base", artifact_type=Examples, properties={"split_names": '["train"]'}
    ).with_id("base")
    return test, base


def _diff(config: Any = TFX_CONFIG, **kwargs: Any) -> ExampleDiff:
    test, base = _importers()
    return ExampleDiff(
        examples_test=test.outputs["result"],
        examples_base=base.outputs["result"],
        config=config,
        **kwargs,
    )


def test_tfx_names() -> None:
    # TFX's spec keys (standard_component_specs.ExampleDiffSpec), not the constructor's names.
    assert set(ExampleDiffSpec.INPUTS) == {"examples", "baseline_examples"}
    assert set(ExampleDiffSpec.PARAMETERS) == {"example_diff_config", "include_split_pairs"}
    assert not ExampleDiffSpec.PARAMETERS["example_diff_config"].optional
    assert ExampleDiffSpec.PARAMETERS["include_split_pairs"].optional
    assert ExampleDiffSpec.OUTPUTS["example_diff_result"].type is ExamplesDiff
    node = _diff()
    assert node.id == "ExampleDiff"
    assert set(node.outputs) == {"example_diff_result"}
    assert set(node.inputs) == {"examples", "baseline_examples"}
    assert __version__ == "0.1.0"


def test_config_forms_give_one_ir() -> None:
    config_class, skew_class = example_diff_messages()
    message = config_class(
        paired_example_skew=skew_class(identifier_features=["culmen_length_mm"], skew_sample_size=2)
    )
    from google.protobuf import json_format

    forms = [
        TFX_CONFIG,
        message,
        json.dumps(TFX_CONFIG),
        json_format.MessageToJson(message),  # protobuf's lowerCamel names
        {"paired_example_skew": {**TFX_CONFIG["paired_example_skew"], "ignore_features": []}},
        {"pairedExampleSkew": {"identifierFeatures": ["culmen_length_mm"], "skewSampleSize": "2"}},
    ]
    for form in forms:
        assert _diff(form).exec_properties == {"example_diff_config": TFX_CONFIG}, form


def test_every_field_is_kept() -> None:
    config_class, skew_class = example_diff_messages()
    full = {
        "paired_example_skew": {
            "identifier_features": ["id", "day"],
            "skew_sample_size": 10,
            "ignore_features": ["noise"],
            "float_round_ndigits": 4,
            "allow_duplicate_identifiers": True,
            "confusion_config": [{"feature_name": "payment_type"}],
        }
    }
    message = config_class(
        paired_example_skew=skew_class(
            identifier_features=["id", "day"],
            skew_sample_size=10,
            ignore_features=["noise"],
            float_round_ndigits=4,
            allow_duplicate_identifiers=True,
            confusion_config=[skew_class.ConfusionConfig(feature_name="payment_type")],
        )
    )
    assert normalize_config(message) == full
    assert normalize_config(full) == full
    # proto3 defaults are left out, as MessageToDict leaves them out.
    explicit = {
        "paired_example_skew": {
            "identifier_features": ["id"],
            "skew_sample_size": 0,
            "allow_duplicate_identifiers": False,
            "confusion_config": [],
        }
    }
    assert normalize_config(explicit) == {"paired_example_skew": {"identifier_features": ["id"]}}


def test_include_split_pairs_forms() -> None:
    expected = {
        "example_diff_config": TFX_CONFIG,
        "include_split_pairs": [["train", "train"], ["train", "eval"]],
    }
    for form in (
        [("train", "train"), ("train", "eval")],
        [["train", "train"], ["train", "eval"]],
        '[["train", "train"], ["train", "eval"]]',  # TFX's exec property
    ):
        assert _diff(include_split_pairs=form).exec_properties == expected
    # Unset, and as in TFX an empty list: every test split with every base split.
    for form in (None, [], "null", ""):
        assert "include_split_pairs" not in _diff(include_split_pairs=form).exec_properties


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (None, r"config is required"),
        ({}, r"config\.paired_example_skew is required"),
        ({"paired_example_skew": {}}, r"identifier_features is empty"),
        (
            {"paired_example_skew": {"identifier_feature": ["id"]}},
            r"unknown field 'identifier_feature' \(did you mean 'identifier_features'\?\)",
        ),
        ({"paired_example_skew": {"identifier_features": "id"}}, r"must be a list of feature"),
        ({"paired_example_skew": {"identifier_features": ["id", "id"]}}, r"names id twice"),
        (
            {"paired_example_skew": {"identifier_features": ["id"], "skew_sample_size": -1}},
            r"skew_sample_size must be a whole number from 0",
        ),
        (
            {"paired_example_skew": {"identifier_features": ["id"], "float_round_ndigits": True}},
            r"float_round_ndigits must be a whole number",
        ),
        (
            {
                "paired_example_skew": {
                    "identifier_features": ["id"],
                    "allow_duplicate_identifiers": "yes",
                }
            },
            r"allow_duplicate_identifiers must be true or false",
        ),
        (
            {"paired_example_skew": {"identifier_features": ["id"], "confusion_config": ["x"]}},
            r"confusion_config\[0\] must be a dict with feature_name",
        ),
        (
            {
                "paired_example_skew": {
                    "identifier_features": ["id"],
                    "confusion_config": [{"feature": "x"}],
                }
            },
            r"confusion_config\[0\]: unknown field 'feature'",
        ),
        ({"example_diff": {}}, r"config: unknown field 'example_diff'"),
        ("{not json", r"config is not valid JSON"),
        (["id"], r"config takes an example_diff_pb2\.ExampleDiffConfig"),
    ],
)
def test_bad_configs_are_refused_when_defined(config: Any, message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=r"^ExampleDiff: .*" + message):
        _diff(config)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ("train", r"is not valid JSON"),
        ({"train": "eval"}, r"must be a list of \(test_split, base_split\) pairs"),
        ([("train",)], r"include_split_pairs\[0\] must be a pair of split names"),
        ([("train", "eval", "x")], r"\[0\] must be a pair"),
        (["te"], r"\[0\] must be a pair"),
        ([("train", "")], r"\[0\] must be a pair"),
        ([("a", "b"), ["a", "b"]], r"names the pair \('a', 'b'\) twice"),
    ],
)
def test_bad_split_pairs_are_refused(pairs: Any, message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match="ExampleDiff: include_split_pairs"):
        _diff(include_split_pairs=pairs)
    with pytest.raises(InvalidComponentArgumentError, match=message):
        normalize_include_split_pairs(pairs)


def test_ir() -> None:
    node = _diff(include_split_pairs=[("train", "train")])
    test, base = node.upstream_nodes
    document = ir_mod.compile(Pipeline("p", "/tmp/root", [test, base, node]))
    [entry] = [n for n in document["nodes"] if n["id"] == "ExampleDiff"]
    assert entry["executor"] == "headrace_examplediff.executor:Executor"
    assert entry["provider"]["distribution"] == "headrace-examplediff"
    assert entry["parameters"] == {
        "example_diff_config": TFX_CONFIG,
        "include_split_pairs": [["train", "train"]],
    }
    assert entry["parameter_types"] == {
        "example_diff_config": "dict",
        "include_split_pairs": "list",
    }
    assert {k: v["producer"] for k, v in entry["inputs"].items()} == {
        "examples": "test",
        "baseline_examples": "base",
    }
    assert entry["outputs"]["example_diff_result"]["type"] == "ExamplesDiff"
    assert document["artifact_types"]["ExamplesDiff"]


def test_distribution_contract() -> None:
    assert "ExampleDiff" in check_distribution("headrace-examplediff")


def test_importing_the_package_imports_no_tensorflow() -> None:
    code = (
        "import headrace_examplediff, headrace_examplediff.viewer\n"
        "from headrace_examplediff import ExampleDiff\n"
    )
    assert imported_heavy_modules(["headrace_examplediff.plugin"], code) == []
