"""TFMA's ``tf_lite`` model type on a real TFLite model: the trained penguin network converted
by TensorFlow's TFLite converter, in the layout TFX's TFLite rewriter writes
(``Format-Serving/tflite``), evaluated against the same network as a SavedModel."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from evaluator_testing import FEATURES, PENGUIN_CONFIG, PenguinData, run_evaluator

from headrace_evaluator import EvaluatorError

ACCURACY = "sparse_categorical_accuracy"
TFLITE_CONFIG = PENGUIN_CONFIG.replace(
    'model_specs { label_key: "species" }',
    'model_specs { label_key: "species" model_type: "tf_lite" }',
)


def _convert(serving_dir: Path, out: Path, work: Path) -> None:
    """The Keras model in ``serving_dir`` re-exported with one float input per feature (what
    TFMA's TFLite extractor feeds, by input name) and converted to ``out/tflite``."""
    import tensorflow as tf

    model = tf.keras.models.load_model(str(serving_dir))

    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name=n) for n in FEATURES])
    def serve(*features: Any) -> dict[str, Any]:
        return {"logits": model(dict(zip(FEATURES, features, strict=True)))}

    features_model = work / "features_saved_model"
    model.save(str(features_model), save_format="tf", signatures={"serving_default": serve})
    out.mkdir(parents=True)
    (out / "tflite").write_bytes(
        tf.lite.TFLiteConverter.from_saved_model(str(features_model)).convert()
    )


@pytest.fixture(scope="module")
def tflite_data(penguin: PenguinData, tmp_path_factory: pytest.TempPathFactory) -> PenguinData:
    root = tmp_path_factory.mktemp("tflite")
    _convert(penguin.model / "Format-Serving", root / "model" / "Format-Serving", root)
    _convert(penguin.weak_model / "Format-Serving", root / "weak" / "Format-Serving", root / "w")
    return PenguinData(penguin.examples, penguin.schema, root / "model", root / "weak")


def _overall(evaluation: Any) -> dict[str, Any]:
    document = json.loads((Path(evaluation.uri) / "metrics.json").read_text())
    return {row["slice"]: row for row in document["slices"]}["Overall"]


def test_a_tflite_model_is_evaluated_and_blessed(
    penguin: PenguinData, tflite_data: PenguinData, tmp_path: Path
) -> None:
    lite_eval, lite_blessing = run_evaluator(tmp_path / "lite", tflite_data, TFLITE_CONFIG)
    saved_eval, _ = run_evaluator(tmp_path / "saved", penguin, PENGUIN_CONFIG)

    document = json.loads((Path(lite_eval.uri) / "metrics.json").read_text())
    assert document["model_types"] == {"candidate": "tf_lite"}
    lite, saved = _overall(lite_eval)["metrics"], _overall(saved_eval)["metrics"]
    assert lite["example_count"] == saved["example_count"] == 112
    # The same network, in TFLite's float32 kernels: the same predicted classes.
    assert lite[ACCURACY] == pytest.approx(saved[ACCURACY]) and lite[ACCURACY] > 0.9
    assert lite_blessing.get_custom_property("blessed") == 1


def test_a_tflite_baseline_with_a_change_threshold(
    tflite_data: PenguinData, tmp_path: Path
) -> None:
    evaluation, blessing = run_evaluator(
        tmp_path / "out", tflite_data, TFLITE_CONFIG, baseline="weak"
    )
    assert blessing.get_custom_property("blessed") == 1
    overall = _overall(evaluation)
    assert overall["metrics"][ACCURACY] > 0.9
    assert overall["baseline"][ACCURACY] < overall["metrics"][ACCURACY]


def test_model_type_and_directory_must_agree(
    penguin: PenguinData, tflite_data: PenguinData, tmp_path: Path
) -> None:
    lite_model = tflite_data.model
    with pytest.raises(
        EvaluatorError,
        match=rf"^Evaluator: model {lite_model} holds no SavedModel: .*; it holds a TFLite "
        r"model: set model_type: 'tf_lite' in eval_config's model_specs to evaluate it$",
    ):
        run_evaluator(tmp_path / "a", tflite_data, PENGUIN_CONFIG)

    with pytest.raises(
        EvaluatorError,
        match=rf"^Evaluator: model {penguin.model} holds no TFLite model: no tflite in "
        rf"{penguin.model}/Format-Serving \(.*\), and eval_config's model_specs give it "
        r"model_type 'tf_lite'$",
    ):
        run_evaluator(tmp_path / "b", penguin, TFLITE_CONFIG)

    # A SavedModel baseline beside a TFLite candidate: the baseline spec is the candidate's.
    mixed = tmp_path / "mixed"
    shutil.copytree(tflite_data.model, mixed / "model")
    data = PenguinData(penguin.examples, penguin.schema, mixed / "model", penguin.weak_model)
    with pytest.raises(EvaluatorError, match=r"^Evaluator: baseline_model .* holds no TFLite"):
        run_evaluator(tmp_path / "c", data, TFLITE_CONFIG, baseline="weak")
