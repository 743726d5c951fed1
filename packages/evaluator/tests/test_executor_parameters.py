"""TFX's other Evaluator parameters when the node runs, on the real penguin data with real
models and TFMA: Fairness Indicators thresholds that fail a model on one slice, the deprecated
feature_slicing_spec, and a user module's metric class, extractors and shared model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from evaluator_testing import PenguinData, penguin_rows, run_evaluator, train_model

from headrace_core import ModelBlessing, ModelEvaluation
from headrace_evaluator import EvaluatorError
from headrace_evaluator.errors import UserModuleError
from headrace_evaluator.viewer import summarize_blessing

FPR = "fairness_indicators_metrics/false_positive_rate@0.5"
# Is a penguin an Adelie (class 0)? At most 10% of the others may be called one, on every
# slice: overall and in each third of the body-mass range (SQL slicing on the raw feature).
FAIRNESS_CONFIG = f"""
model_specs {{ label_key: "species" }}
metrics_specs {{
  binarize {{ class_ids {{ values: [0] }} }}
  thresholds {{
    key: "{FPR}"
    value {{ value_threshold {{ upper_bound {{ value: 0.1 }} }} }}
  }}
}}
slicing_specs {{}}
slicing_specs {{
  slice_keys_sql: "SELECT STRUCT(CAST(FLOOR(body_mass_g * 3) AS INT64) AS body_mass_bucket) "
                  "FROM example.body_mass_g"
}}
"""
ACCURACY_CONFIG = """
model_specs { label_key: "species" }
metrics_specs {
  metrics {
    class_name: "SparseCategoricalAccuracy"
    threshold { value_threshold { lower_bound { value: 0.6 } } }
  }
}
"""


def _read(artifact: ModelEvaluation | ModelBlessing, name: str) -> Any:
    return json.loads((Path(artifact.uri) / name).read_text())


def _rows(evaluation: ModelEvaluation) -> dict[str, dict[str, Any]]:
    return {row["slice"]: row for row in _read(evaluation, "metrics.json")["slices"]}


@pytest.fixture(scope="module")
def scored(penguin: PenguinData, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two models whose signature returns class probabilities (Fairness Indicators cuts
    scores at thresholds): trained for 30 epochs, and for 5, which still calls some light
    penguins of the other species Adelies."""
    root = tmp_path_factory.mktemp("scored")
    rows = penguin_rows()["train"]
    models = {}
    for name, epochs in (("fair", 30), ("unfair", 5)):
        train_model(root / name / "Format-Serving", rows, epochs=epochs, probabilities=True)
        models[name] = dataclasses.replace(penguin, model=root / name)
    return models


def test_a_fairness_threshold_fails_the_model_on_one_slice(
    scored: dict[str, PenguinData], tmp_path: Path
) -> None:
    evaluation, blessing = run_evaluator(
        tmp_path, scored["unfair"], FAIRNESS_CONFIG, fairness_indicator_thresholds=[0.5]
    )
    assert (Path(blessing.uri) / "NOT_BLESSED").exists()
    assert blessing.custom_properties["blessed"] == 0
    rows = _rows(evaluation)
    metric = f"{FPR}[class_id=0]"
    overall = rows["Overall"]["metrics"][metric]
    light = rows["body_mass_bucket=0"]["metrics"][metric]
    assert overall <= 0.1 < light  # fine on average, not for light penguins
    validation = _read(blessing, "validation.json")
    failures = [(f["slice"], f["metric"]) for f in validation["failures"]]
    assert ("body_mass_bucket=0", metric) in failures
    assert all(slice_ != "Overall" for slice_, _ in failures)
    assert (
        validation["reason"].endswith("validation failed")
        or "validations failed" in (validation["reason"])
    )
    text = summarize_blessing(blessing).text
    assert (
        f"{metric} on slice body_mass_bucket=0 is {light:.6g}, failing threshold value <= 0.1"
        in (text)
    )
    # The metric computes all ten rates at each threshold, under TFMA's names.
    names = _read(evaluation, "metrics.json")["metric_names"]
    assert "fairness_indicators_metrics/recall@0.5[class_id=0]" in names
    customizations = _read(evaluation, "metrics.json")["customizations"]
    assert customizations["fairness_indicator_thresholds"] == [0.5]


def test_the_same_threshold_blesses_a_model_fair_on_every_slice(
    scored: dict[str, PenguinData], tmp_path: Path
) -> None:
    evaluation, blessing = run_evaluator(
        tmp_path, scored["fair"], FAIRNESS_CONFIG, fairness_indicator_thresholds=[0.3, 0.5]
    )
    assert (Path(blessing.uri) / "BLESSED").exists(), _read(blessing, "validation.json")
    metrics = _rows(evaluation)["body_mass_bucket=0"]["metrics"]
    # Two thresholds: both printed with as many decimals as the longer needs.
    assert f"{FPR}[class_id=0]" in metrics
    assert "fairness_indicators_metrics/false_positive_rate@0.3[class_id=0]" in metrics


def test_feature_slicing_spec_adds_slices_and_overall(penguin: PenguinData, tmp_path: Path) -> None:
    evaluation, blessing = run_evaluator(
        tmp_path,
        penguin,
        ACCURACY_CONFIG,
        feature_slicing_spec={"specs": [{"column_for_slicing": ["species"]}]},
    )
    assert sorted(_rows(evaluation)) == ["Overall", "species=0", "species=1", "species=2"]
    customizations = _read(evaluation, "metrics.json")["customizations"]
    assert customizations["feature_slicing_spec_slices"] == [["species"], []]
    assert blessing.custom_properties["blessed"] == 1


@pytest.mark.parametrize("schema", [True, False], ids=["schema", "examples"])
def test_a_slicing_column_not_in_the_data_is_named(
    penguin: PenguinData, tmp_path: Path, schema: bool
) -> None:
    source = "the schema" if schema else "the 112 examples of eval"
    with pytest.raises(
        EvaluatorError,
        match=rf"^Evaluator: eval_config slices by a column that is not in {source}: "
        r"slicing_specs\[0\]\.feature_keys: 'island' \(columns: body_mass_g, ",
    ):
        run_evaluator(
            tmp_path,
            penguin,
            ACCURACY_CONFIG,
            schema=schema,
            feature_slicing_spec='{"specs": [{"column_for_slicing": ["island"]}]}',
        )


MODULE = '''
"""A user module: a custom Keras metric, custom extractors and a custom shared model."""
import json
import os

import apache_beam as beam
import numpy as np
import tensorflow as tf
import tensorflow_model_analysis as tfma


class MeanSpecies(tf.keras.metrics.Metric):
    """The mean of the labels (class ids), times SCALE."""

    def __init__(self, name="mean_species", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_weight(name="total", initializer="zeros")
        self.count = self.add_weight(name="count", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        label = tf.cast(tf.reshape(y_true, [-1]), tf.float32)  # class ids, [batch, 1]
        self.total.assign_add(tf.reduce_sum(label) * SCALE)
        self.count.assign_add(tf.cast(tf.size(label), tf.float32))

    def result(self):
        return self.total / self.count


SCALE = 1.0


def custom_eval_shared_model(eval_saved_model_path, model_name, eval_config, **kwargs):
    with open(os.environ["HOOK_LOG"], "a") as f:
        f.write(json.dumps({"path": eval_saved_model_path, "kwargs": sorted(kwargs)}) + "\\n")
    return tfma.default_eval_shared_model(
        eval_saved_model_path=eval_saved_model_path,
        model_name=model_name,
        eval_config=eval_config,
        **kwargs,
    )


def _add_heavy(extracts):
    features = dict(extracts["features"])
    features["heavy"] = (np.asarray(features["body_mass_g"]) > 0.5).astype(np.int64)
    return {**extracts, "features": features}


def custom_extractors(eval_shared_model, eval_config, tensor_adapter_config):
    extractors = tfma.default_extractors(
        eval_shared_model=eval_shared_model,
        eval_config=eval_config,
        tensor_adapter_config=tensor_adapter_config,
    )
    heavy = tfma.extractors.Extractor(stage_name="AddHeavy", ptransform=beam.Map(_add_heavy))
    return [extractors[0], heavy, *extractors[1:]]
'''
MODULE_CONFIG = """
model_specs { label_key: "species" }
metrics_specs {
  metrics { class_name: "MeanSpecies" module: "evaluator_module" }
  metrics {
    class_name: "SparseCategoricalAccuracy"
    threshold { value_threshold { lower_bound { value: 0.6 } } }
  }
}
slicing_specs {}
slicing_specs { feature_keys: "heavy" }
"""


def _mean_species() -> float:
    labels = [int(r["species"]) for r in penguin_rows()["eval"]]
    return sum(labels) / len(labels)


def test_a_module_file_provides_a_metric_extractors_and_the_shared_model(
    penguin: PenguinData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "user" / "evaluator_module.py"
    module.parent.mkdir()
    module.write_text(MODULE)
    log = tmp_path / "hooks.log"
    monkeypatch.setenv("HOOK_LOG", str(log))
    evaluation, blessing = run_evaluator(
        tmp_path / "first", penguin, MODULE_CONFIG, module_file=str(module)
    )
    rows = _rows(evaluation)
    assert rows["Overall"]["metrics"]["mean_species"] == pytest.approx(_mean_species(), rel=1e-6)
    assert {"heavy=0", "heavy=1"} <= set(rows)  # the feature the custom extractor added
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [
        {"path": str(penguin.model / "Format-Serving"), "kwargs": ["add_metrics_callbacks"]}
    ]
    customizations = _read(evaluation, "metrics.json")["customizations"]
    assert customizations["user_hooks"] == ["custom_eval_shared_model", "custom_extractors"]
    assert customizations["user_metric_classes"] == ["MeanSpecies"]
    assert blessing.custom_properties["blessed"] == 1

    # An edit runs as edited in the same process (the cache key hashes the new content too).
    module.write_text(MODULE.replace("SCALE = 1.0", "SCALE = 2.0"))
    evaluation, _ = run_evaluator(
        tmp_path / "second", penguin, MODULE_CONFIG, module_file=str(module)
    )
    scaled = _rows(evaluation)["Overall"]["metrics"]["mean_species"]
    assert scaled == pytest.approx(2 * _mean_species(), rel=1e-6)


def test_a_module_path_metric_class(
    penguin: PenguinData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "my_eval_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    metric_only = MODULE.split("def custom_eval_shared_model", maxsplit=1)[0]
    (package / "metrics.py").write_text(metric_only)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = MODULE_CONFIG.replace('"evaluator_module"', '"my_eval_pkg.metrics"').replace(
        'slicing_specs { feature_keys: "heavy" }', ""
    )
    evaluation, _ = run_evaluator(tmp_path, penguin, config, module_path="my_eval_pkg.metrics")
    mean = _rows(evaluation)["Overall"]["metrics"]["mean_species"]
    assert mean == pytest.approx(_mean_species(), rel=1e-6)


def test_user_module_failures_are_named(penguin: PenguinData, tmp_path: Path) -> None:
    module = tmp_path / "evaluator_module.py"
    module.write_text("import os\n\ndef helper():\n    pass\n\nclass Other:\n    pass\n")
    config = MODULE_CONFIG.replace('slicing_specs { feature_keys: "heavy" }', "")
    with pytest.raises(
        UserModuleError,
        match=r"^Evaluator: eval_config metrics_specs\[0\]\.metrics\[0\] names class 'MeanSpecies' "
        rf"of module_file {module}, which defines no such class; it defines Other$",
    ):
        run_evaluator(tmp_path / "a", penguin, config, module_file=str(module))
    with pytest.raises(
        UserModuleError,
        match=rf"^Evaluator: module_file {module} defines neither custom_eval_shared_model"
        r"\(eval_saved_model_path, .* nor custom_extractors\(.*\), and no metric of eval_config "
        r"names it as its module \('evaluator_module'\); it defines helper$",
    ):
        run_evaluator(tmp_path / "b", penguin, ACCURACY_CONFIG, module_file=str(module))
    module.write_text("def custom_eval_shared_model(**kwargs):\n    raise KeyError('nope')\n")
    with pytest.raises(
        UserModuleError,
        match=rf"^Evaluator: custom_eval_shared_model of module_file {module} raised "
        "KeyError: 'nope'",
    ):
        run_evaluator(tmp_path / "c", penguin, ACCURACY_CONFIG, module_file=str(module))
    with pytest.raises(UserModuleError, match=r"^Evaluator: module_path 'no_such_pkg\.m': "):
        run_evaluator(tmp_path / "d", penguin, ACCURACY_CONFIG, module_path="no_such_pkg.m")
