"""The component: its spec, eval_config in every accepted form, argument checks, the IR, and
the plugin contract. Nothing here runs TFMA."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from headrace_core import (
    Channel,
    Examples,
    Importer,
    InvalidComponentArgumentError,
    LatestBlessedModelStrategy,
    Model,
    ModelBlessing,
    ModelEvaluation,
    Pipeline,
    Resolver,
    Schema,
)
from headrace_core import ir as ir_mod
from headrace_core.testing import check_distribution
from headrace_evaluator import Evaluator, EvaluatorSpec, __version__, normalize_eval_config

TEXT_CONFIG = """
model_specs { label_key: "species" }
metrics_specs {
  metrics {
    class_name: "SparseCategoricalAccuracy"
    threshold {
      value_threshold { lower_bound { value: 0.6 } }
      change_threshold { direction: HIGHER_IS_BETTER absolute { value: -1e-10 } }
    }
  }
}
slicing_specs {}
slicing_specs { feature_keys: "species" }
"""

CANONICAL = {
    "metrics_specs": [
        {
            "metrics": [
                {
                    "class_name": "SparseCategoricalAccuracy",
                    "threshold": {
                        "change_threshold": {"absolute": -1e-10, "direction": "HIGHER_IS_BETTER"},
                        "value_threshold": {"lower_bound": 0.6},
                    },
                }
            ]
        }
    ],
    "model_specs": [{"label_key": "species"}],
    "slicing_specs": [{}, {"feature_keys": ["species"]}],
}


def _importers() -> tuple[Importer, Importer, Importer]:
    examples = Importer(
        source_uri="/data/examples",
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("examples")
    model = Importer(source_uri="/data/model", artifact_type=Model).with_id("model")
    schema = Importer(source_uri="/data/schema", artifact_type=Schema).with_id("schema")
    return examples, model, schema


def _evaluator(**kwargs: Any) -> Evaluator:
    examples, model, _ = _importers()
    arguments: dict[str, Any] = {"eval_config": TEXT_CONFIG, **kwargs}
    return Evaluator(examples.outputs["result"], model.outputs["result"], **arguments)


def test_tfx_names() -> None:
    assert set(EvaluatorSpec.INPUTS) == {"examples", "model", "baseline_model", "schema"}
    assert not EvaluatorSpec.INPUTS["examples"].optional
    assert not EvaluatorSpec.INPUTS["model"].optional
    assert EvaluatorSpec.INPUTS["baseline_model"].optional
    assert EvaluatorSpec.INPUTS["schema"].optional
    # TFX 1.16's EvaluatorSpec, less add_split_name (an internal flag of TFX's executor).
    assert set(EvaluatorSpec.PARAMETERS) == {
        "eval_config",
        "example_splits",
        "feature_slicing_spec",
        "fairness_indicator_thresholds",
        "module_file",
        "module_path",
    }
    assert EvaluatorSpec.OUTPUTS["evaluation"].type is ModelEvaluation
    assert EvaluatorSpec.OUTPUTS["blessing"].type is ModelBlessing
    evaluator = _evaluator()
    assert set(evaluator.outputs) == {"evaluation", "blessing"}
    assert set(evaluator.inputs) == {"examples", "model"}
    # example_splits unset: the executor evaluates 'eval', as TFX.
    assert evaluator.exec_properties == {"eval_config": CANONICAL}
    assert Evaluator.EXECUTOR_ENV == {"TF_USE_LEGACY_KERAS": "1"}
    assert __version__ == "0.1.0"


def test_eval_config_forms_give_one_canonical_json() -> None:
    as_json = json.dumps(CANONICAL)
    # The JSON that json_format writes by default: camelCase names and wrapper values.
    camel = {
        "modelSpecs": [{"labelKey": "species"}],
        "metricsSpecs": [
            {
                "metrics": [
                    {
                        "className": "SparseCategoricalAccuracy",
                        "threshold": {
                            "valueThreshold": {"lowerBound": 0.6},
                            "changeThreshold": {
                                "direction": "HIGHER_IS_BETTER",
                                "absolute": -1e-10,
                            },
                        },
                    }
                ]
            }
        ],
        "slicingSpecs": [{}, {"featureKeys": ["species"]}],
    }
    for given in (TEXT_CONFIG, as_json, CANONICAL, camel):
        assert normalize_eval_config(given) == CANONICAL, given
    # Key order in the stored form is sorted, so the IR does not depend on how it was written.
    assert list(normalize_eval_config(TEXT_CONFIG)) == sorted(CANONICAL)


def test_eval_config_as_a_tfma_message() -> None:
    from google.protobuf import text_format
    from tensorflow_model_analysis.proto import config_pb2

    message = text_format.Parse(TEXT_CONFIG, config_pb2.EvalConfig())
    evaluator = _evaluator(eval_config=message)
    assert evaluator.exec_properties["eval_config"] == CANONICAL
    with pytest.raises(InvalidComponentArgumentError, match=r"must be a tfma\.EvalConfig, got a"):
        _evaluator(eval_config=config_pb2.ModelSpec(label_key="species"))


def test_ir_is_deterministic_and_holds_the_config_as_json() -> None:
    def compile_with(config: Any) -> str:
        examples, model, schema = _importers()
        latest = Resolver(
            strategy_class=LatestBlessedModelStrategy,
            model=Channel(type=Model),
            model_blessing=Channel(type=ModelBlessing),
        ).with_id("latest_blessed_model")
        evaluator = Evaluator(
            examples=examples.outputs["result"],
            model=model.outputs["result"],
            baseline_model=latest.outputs["model"],
            eval_config=config,
            example_splits=["eval", "test"],
            schema=schema.outputs["result"],
        )
        pipeline = Pipeline("ev", "/tmp/ev", [examples, model, schema, latest, evaluator])
        return ir_mod.dumps(ir_mod.compile(pipeline))

    text = compile_with(TEXT_CONFIG)
    assert compile_with(CANONICAL) == text
    assert compile_with(json.dumps(CANONICAL, sort_keys=False, indent=1)) == text
    document = ir_mod.loads(text)
    ir_mod.validate(document)
    [node] = [n for n in document["nodes"] if n["id"] == "Evaluator"]
    assert node["executor"] == "headrace_evaluator.executor:Executor"
    assert node["parameters"] == {"eval_config": CANONICAL, "example_splits": ["eval", "test"]}
    assert node["inputs"]["baseline_model"]["optional"] is True
    assert node["provider"]["distribution"] == "headrace-evaluator"
    assert node["provider"]["version"] == __version__


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "model_specs { label_key: 'species' }\nmetrics_specs { metrics { class_name: 'A' }",
            r"eval_config is not a valid EvalConfig in text format: line 2:",
        ),
        (
            "metric_specs { metrics { class_name: 'SparseCategoricalAccuracy' } }",
            r"has no field named \"metric_specs\".* \(did you mean 'metrics_specs'\?\)",
        ),
        (
            {"metrics_specs": [{"metrics": [{"class_name": "A", "treshold": {}}]}]},
            r"has no field named \"treshold\".* \(did you mean 'threshold'\?\)",
        ),
        ('{"metrics_specs": [', r"eval_config is not valid JSON \(line 1, column 20\)"),
        ("model_specs { label_key: 'species' }", r"eval_config has no metrics: add metrics_specs"),
        ({}, r"eval_config has no metrics"),
        ("metrics_specs { metrics { } }", r"metrics_specs\[0\]\.metrics\[0\] has no class_name"),
        (
            "model_specs { model_type: 'keras' }\nmetrics_specs { metrics { class_name: 'A' } }",
            r"model_specs\[0\]\.model_type 'keras' is not one of tf_generic, tf_keras",
        ),
        (
            "model_specs {}\nmodel_specs {}\nmetrics_specs { metrics { class_name: 'A' } }",
            r"more than one model_spec is a candidate",
        ),
        (
            "metrics_specs { metrics { class_name: 'A' threshold { change_threshold { "
            "absolute { value: 0 } } } } }",
            r"metrics_specs\[0\]\.metrics\[0\]\.threshold\.change_threshold has no direction",
        ),
        (
            "metrics_specs { metrics { class_name: 'A' threshold { value_threshold { "
            "lower_bound { value: 0.9 } upper_bound { value: 0.1 } } } } }",
            r"lower_bound 0\.9 is above upper_bound 0\.1",
        ),
        (42, r"eval_config takes a tfma.EvalConfig, its text format or its JSON"),
    ],
)
def test_bad_eval_config(config: Any, message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=f"^Evaluator: .*{message}"):
        _evaluator(eval_config=config)


def test_eval_config_is_required() -> None:
    examples, model, _ = _importers()
    with pytest.raises(InvalidComponentArgumentError, match="Evaluator: missing eval_config"):
        Evaluator(examples.outputs["result"], model.outputs["result"])


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        ("eval", "example_splits must be a non-empty list of split names"),
        ([], "example_splits must be a non-empty list of split names"),
        (["eval", 3], "example_splits must be a non-empty list of split names"),
        (["eval", "eval"], "example_splits names a split twice"),
    ],
)
def test_bad_example_splits(splits: Any, message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=message):
        _evaluator(example_splits=splits)


def test_wrong_artifact_types() -> None:
    examples, model, schema = _importers()
    with pytest.raises(
        InvalidComponentArgumentError,
        match=r"Evaluator: input 'model' expects Model artifacts, got a channel of Schema from "
        r"schema.outputs\['result'\]",
    ):
        Evaluator(examples.outputs["result"], schema.outputs["result"], eval_config=TEXT_CONFIG)
    with pytest.raises(InvalidComponentArgumentError, match="input 'examples' expects Examples"):
        Evaluator(model.outputs["result"], model.outputs["result"], eval_config=TEXT_CONFIG)
    with pytest.raises(InvalidComponentArgumentError, match="input 'baseline_model' expects Model"):
        _evaluator(baseline_model=examples.outputs["result"])
    with pytest.raises(InvalidComponentArgumentError, match="input 'schema' expects Schema"):
        _evaluator(schema=model.outputs["result"])
    with pytest.raises(InvalidComponentArgumentError, match="input 'model' expects a channel"):
        Evaluator(examples.outputs["result"], "/data/model", eval_config=TEXT_CONFIG)  # type: ignore[arg-type]


def test_constructing_imports_no_tensorflow() -> None:
    # The eval_config is parsed with TFMA's message definitions, read without importing TFMA.
    script = f"""
import json, sys
from headrace_core import Examples, Importer, Model
from headrace_evaluator import Evaluator
examples = Importer(source_uri="/e", artifact_type=Examples).with_id("e")
model = Importer(source_uri="/m", artifact_type=Model).with_id("m")
Evaluator(examples.outputs["result"], model.outputs["result"], eval_config={TEXT_CONFIG!r})
heavy = ("tensorflow", "tensorflow_model_analysis", "apache_beam", "tfx_bsl", "keras")
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}})))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_conformance() -> None:
    assert check_distribution("headrace-evaluator") == ["Evaluator"]


def test_tfx_style_json_strings_that_do_not_parse_are_named() -> None:
    from headrace_evaluator.errors import EvaluatorError
    from headrace_evaluator.executor import _example_splits

    assert _example_splits('["eval", "test"]') == ["eval", "test"]
    with pytest.raises(EvaluatorError, match=r"^Evaluator: example_splits is not valid JSON"):
        _example_splits("[eval")
