"""TFX's other Evaluator parameters at pipeline-definition time: fairness_indicator_thresholds,
feature_slicing_spec, module_file / module_path. Every accepted form gives one IR; bad
values are named. Nothing here imports TensorFlow or runs TFMA."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headrace_core import Examples, Importer, InvalidComponentArgumentError, Model
from headrace_core.driver import DriverContext
from headrace_evaluator import Evaluator
from headrace_evaluator.driver import run_driver

CONFIG = """
model_specs { label_key: "species" }
metrics_specs {
  metrics {
    class_name: "SparseCategoricalAccuracy"
    threshold { value_threshold { lower_bound { value: 0.6 } } }
  }
}
"""
# Fairness Indicators needs one score per example: the three classes binarized.
BINARIZED = """
model_specs { label_key: "species" }
metrics_specs { binarize { class_ids { values: [0, 1, 2] } } }
"""


def _evaluator(**kwargs: Any) -> Evaluator:
    examples = Importer(source_uri="/data/examples", artifact_type=Examples).with_id("examples")
    model = Importer(source_uri="/data/model", artifact_type=Model).with_id("model")
    arguments: dict[str, Any] = {"eval_config": CONFIG, **kwargs}
    return Evaluator(examples.outputs["result"], model.outputs["result"], **arguments)


def _feature_slicing_spec_class() -> Any:
    """TFX's evaluator_pb2.FeatureSlicingSpec (same package, names and fields), built here:
    this package does not depend on tfx or headrace-tfx."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    file = descriptor_pb2.FileDescriptorProto(
        name="tfx/proto/evaluator.proto", package="tfx.components.evaluator", syntax="proto3"
    )
    single = file.message_type.add(name="SingleSlicingSpec")
    single.field.add(name="column_for_slicing", number=1, type=9, label=3)
    spec = file.message_type.add(name="FeatureSlicingSpec")
    spec.field.add(
        name="specs",
        number=1,
        type=11,
        label=3,
        type_name=".tfx.components.evaluator.SingleSlicingSpec",
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tfx.components.evaluator.FeatureSlicingSpec")
    )


# fairness_indicator_thresholds


def test_fairness_thresholds_as_a_list_a_tuple_or_tfx_json_give_one_ir() -> None:
    forms = ([0.3, 0.5], (0.3, 0.5), "[0.3, 0.5]", [0.3, 0.5])
    properties = [_evaluator(fairness_indicator_thresholds=f).exec_properties for f in forms]
    assert properties[0]["fairness_indicator_thresholds"] == [0.3, 0.5]
    assert all(p == properties[0] for p in properties)
    assert "fairness_indicator_thresholds" not in _evaluator().exec_properties


def test_fairness_thresholds_need_only_a_metrics_spec() -> None:
    evaluator = _evaluator(eval_config=BINARIZED, fairness_indicator_thresholds=[0.5])
    assert evaluator.exec_properties["eval_config"]["metrics_specs"] == [
        {"binarize": {"class_ids": {"values": [0, 1, 2]}}}
    ]
    with pytest.raises(InvalidComponentArgumentError, match="has no metrics"):
        _evaluator(eval_config=BINARIZED)
    with pytest.raises(InvalidComponentArgumentError, match="no metrics_specs for the fairness"):
        _evaluator(
            eval_config='model_specs { label_key: "species" }', fairness_indicator_thresholds=[0.5]
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["0.5"], r"\[0\] is not a number: '0.5' \(str\)"),
        ([0.5, True], r"\[1\] is not a number: True \(bool\)"),
        ([0.5, 50], r"\[1\] is 50: .* in \[0, 1\]"),
        ([float("nan")], r"\[0\] is nan"),
        ([], " must be a non-empty list of numbers"),
        (0.5, " must be a non-empty list of numbers such as"),
        ("[0.5", " is not valid JSON"),
        ([0.5, 0.5], " names a threshold twice"),
    ],
)
def test_bad_fairness_thresholds(value: Any, message: str) -> None:
    where = r"^Evaluator: fairness_indicator_thresholds"
    with pytest.raises(InvalidComponentArgumentError, match=where + message):
        _evaluator(fairness_indicator_thresholds=value)


def test_fairness_thresholds_twice_are_refused() -> None:
    config = BINARIZED.replace(
        "metrics_specs {", 'metrics_specs { metrics { class_name: "FairnessIndicators" }'
    )
    with pytest.raises(
        InvalidComponentArgumentError,
        match=r"fairness_indicator_thresholds and eval_config metrics_specs\[0\]\.metrics\[0\] "
        "both configure FairnessIndicators",
    ):
        _evaluator(eval_config=config, fairness_indicator_thresholds=[0.5])


# feature_slicing_spec


def test_feature_slicing_spec_as_message_json_or_dict_gives_one_ir() -> None:
    cls = _feature_slicing_spec_class()
    message = cls()
    message.specs.add(column_for_slicing=["species"])
    message.specs.add()
    forms = [
        message,
        '{"specs": [{"column_for_slicing": ["species"]}, {}]}',
        {"specs": [{"column_for_slicing": ["species"]}, {"column_for_slicing": []}]},
    ]
    properties = [_evaluator(feature_slicing_spec=f).exec_properties for f in forms]
    assert properties[0]["feature_slicing_spec"] == {
        "specs": [{"column_for_slicing": ["species"]}, {}]
    }
    assert all(p == properties[0] for p in properties)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"specs": [{"column_for_slice": ["species"]}]},
            r"feature_slicing_spec\.specs\[0\]: unknown field 'column_for_slice' "
            r"\(did you mean 'column_for_slicing'\?\)",
        ),
        ({"spec": []}, r"feature_slicing_spec: unknown field 'spec' \(did you mean 'specs'\?\)"),
        (
            {"specs": [{"column_for_slicing": "species"}]},
            r"feature_slicing_spec\.specs\[0\]\.column_for_slicing must be a list of column",
        ),
        (
            {"specs": [{"column_for_slicing": ["a", "a"]}]},
            r"feature_slicing_spec\.specs\[0\]\.column_for_slicing names a column twice",
        ),
        ("{specs", "feature_slicing_spec is not valid JSON"),
        (["species"], "feature_slicing_spec takes an evaluator_pb2.FeatureSlicingSpec"),
    ],
)
def test_bad_feature_slicing_spec(value: Any, message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=r"^Evaluator: " + message):
        _evaluator(feature_slicing_spec=value)


def test_feature_slicing_spec_alone_is_not_enough() -> None:
    # TFX's feature_slicing_spec-only path evaluated an estimator's EvalSavedModel with its
    # own metrics; TensorFlow 2.16 has no estimators, and the config says what to compute.
    with pytest.raises(
        InvalidComponentArgumentError,
        match=r"missing eval_config .* feature_slicing_spec alone .* its slices join",
    ):
        _evaluator(eval_config=None, feature_slicing_spec={"specs": []})


# module_file / module_path


def test_module_file_is_stored_absolute_and_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "evaluator_module.py").write_text("def custom_extractors(**kw): return None\n")
    monkeypatch.chdir(tmp_path)
    evaluator = _evaluator(module_file="evaluator_module.py")
    assert evaluator.exec_properties["module_file"] == str(tmp_path / "evaluator_module.py")
    with pytest.raises(InvalidComponentArgumentError, match=r"module_file .*nowhere\.py does not"):
        _evaluator(module_file="nowhere.py")


def test_module_file_and_module_path_exclude_each_other(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("")
    with pytest.raises(InvalidComponentArgumentError, match="at most one of module_file and"):
        _evaluator(module_file=str(tmp_path / "m.py"), module_path="pkg.m")
    with pytest.raises(InvalidComponentArgumentError, match="module_path must be an importable"):
        _evaluator(module_path="pkg/m.py")
    assert _evaluator(module_path="pkg.m").exec_properties["module_path"] == "pkg.m"


def test_a_module_path_edit_changes_the_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_eval_hooks.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def key() -> Any:
        context = DriverContext(
            pipeline_name="p",
            pipeline_root=str(tmp_path),
            run_id="r",
            node_id="Evaluator",
            exec_properties={"module_path": "my_eval_hooks"},
            inputs={},
        )
        return run_driver(context).cache_key

    before = key()
    assert before["module_path_source"]["module"] == "my_eval_hooks"
    assert "my_eval_hooks" not in sys.modules  # found on disk, not imported
    (tmp_path / "my_eval_hooks.py").write_text("X = 2\n")
    assert key() != before


def test_all_parameters_import_no_tensorflow(tmp_path: Path) -> None:
    module = tmp_path / "evaluator_module.py"
    module.write_text("import tensorflow\n")  # would be seconds; must not be imported
    script = f"""
import json, sys
from headrace_core import Examples, Importer, Model
from headrace_evaluator import Evaluator
examples = Importer(source_uri="/e", artifact_type=Examples).with_id("e")
model = Importer(source_uri="/m", artifact_type=Model).with_id("m")
Evaluator(
    examples.outputs["result"], model.outputs["result"], eval_config={BINARIZED!r},
    fairness_indicator_thresholds=[0.3, 0.5],
    feature_slicing_spec={{"specs": [{{"column_for_slicing": ["species"]}}]}},
    module_file={str(module)!r},
)
heavy = ("tensorflow", "tensorflow_model_analysis", "apache_beam", "tfx_bsl", "keras")
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}})))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
