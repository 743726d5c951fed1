"""TFLite output: TFX's rewriting API on a real penguin model, in a ``run_fn`` run by the
Trainer's executor, and the rewriter's own checks and errors."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from trainer_testing import (
    TFLITE_MODULE,
    PenguinData,
    eval_features,
    penguin_inputs,
    run_trainer,
    tflite_predict,
)

from headrace_core import Model, ModelRun
from headrace_core.testing import imported_heavy_modules
from headrace_trainer import ModelNotExportedError, RewriterUnavailableError, RewritingError
from headrace_trainer import rewriting as rw
from headrace_trainer.executor import MODEL_FORMAT_KEY, exported_model_format


@pytest.fixture(scope="module")
def converted(
    penguin: PenguinData, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Model, ModelRun]:
    return run_trainer(
        tmp_path_factory.mktemp("tflite"),
        penguin_inputs(penguin),
        module_file=str(TFLITE_MODULE),
        train_args={"num_steps": 100},
        eval_args={"num_steps": 5},
    )


def test_trainer_exports_a_tflite_model(
    penguin: PenguinData, converted: tuple[Model, ModelRun]
) -> None:
    import tensorflow as tf

    model, model_run = converted
    serving = Path(model.uri) / "Format-Serving"
    # The SavedModel's (empty) assets/ is copied beside the model, as TFX's rewriter does.
    assert sorted(os.listdir(serving)) == ["assets", "tflite"]
    assert not os.listdir(serving / "assets")
    assert model.get_custom_property(MODEL_FORMAT_KEY) == "tflite"

    features, labels = eval_features(penguin)
    lite = tflite_predict(serving / "tflite", features)
    signature = tf.saved_model.load(str(Path(model_run.uri) / "saved_model")).signatures[
        "serving_default"
    ]
    full = signature(**{k: tf.constant(v) for k, v in features.items()})["logits"].numpy()
    assert lite.shape == full.shape == (112, 3)
    np.testing.assert_allclose(lite, full, rtol=1e-5, atol=1e-5)
    assert float(np.mean(np.argmax(lite, axis=1) == labels)) > 0.9

    report = json.loads((Path(model_run.uri) / "tflite.json").read_text())
    saved_model_bytes = sum(
        p.stat().st_size for p in (Path(model_run.uri) / "saved_model").rglob("*") if p.is_file()
    )
    print(
        f"\nTFLite: conversion {report['conversion_seconds']:.2f} s, "
        f"{(serving / 'tflite').stat().st_size} bytes (SavedModel {saved_model_bytes} bytes), "
        f"max |difference| {float(np.max(np.abs(lite - full))):.2e}"
    )


def test_a_tflite_file_of_another_name_is_not_an_exported_model(
    penguin: PenguinData, tmp_path: Path
) -> None:
    with pytest.raises(ModelNotExportedError) as failure:
        run_trainer(
            tmp_path,
            penguin_inputs(penguin),
            module_file=str(TFLITE_MODULE),
            train_args={"num_steps": 2},
            eval_args={"num_steps": 1},
            custom_config={"rewriter": {"filename": "model.tflite"}},
        )
    message = str(failure.value)
    assert "which holds assets, model.tflite) and no TFLite model named tflite" in message
    assert message.endswith(
        "(model.tflite: TFMA and the Pusher look for the file name tflite, the rewriter's "
        "default filename)"
    )


def test_model_format_of_a_serving_directory(tmp_path: Path) -> None:
    assert exported_model_format(str(tmp_path / "missing")) is None
    assert exported_model_format(str(tmp_path)) is None
    (tmp_path / "tflite").write_bytes(b"")
    assert exported_model_format(str(tmp_path)) == "tflite"
    (tmp_path / "saved_model.pb").write_bytes(b"")
    assert exported_model_format(str(tmp_path)) == "saved_model,tflite"


@pytest.fixture(scope="module")
def saved_model(converted: tuple[Model, ModelRun]) -> Path:
    return Path(converted[1].uri) / "saved_model"


def _describe(kind: rw.ModelType, path: Path) -> rw.ModelDescription:
    return rw.ModelDescription(kind, str(path))


def test_assets_and_quantization(saved_model: Path, tmp_path: Path, penguin: PenguinData) -> None:
    import tensorflow as tf

    source = tmp_path / "with_assets"
    shutil.copytree(saved_model, source)
    (source / "assets.extra").mkdir()
    (source / "assets.extra" / "tf_serving_warmup_requests").write_bytes(b"warmup")
    (source / "assets").mkdir(exist_ok=True)
    (source / "assets" / "vocabulary.txt").write_text("a\nb\n")

    plain, quantized = tmp_path / "plain", tmp_path / "quantized"
    rw.create_rewriter("tfliterewriter", name="plain").perform_rewrite(
        _describe(rw.ModelType.SAVED_MODEL, source), _describe(rw.ModelType.ANY_MODEL, plain)
    )
    assert (plain / "assets.extra" / "tf_serving_warmup_requests").read_bytes() == b"warmup"
    assert (plain / "assets" / "vocabulary.txt").read_text() == "a\nb\n"

    rw.TFLiteRewriter(
        name="float16",
        filename=b"tflite",
        copy_assets=False,
        copy_assets_extra=False,
        quantization_optimizations=[tf.lite.Optimize.DEFAULT],
        quantization_supported_types=[tf.float16],
    ).perform_rewrite(
        _describe(rw.ModelType.SAVED_MODEL, source),
        _describe(rw.ModelType.TFLITE_MODEL, quantized),
    )
    assert sorted(os.listdir(quantized)) == ["tflite"]
    # The settings reach the converter: the weights are stored as float16. (Dynamic-range
    # quantization alone leaves this network as it is: its weight tensors are too small.)
    stored = tf.lite.Interpreter(model_path=str(quantized / "tflite")).get_tensor_details()
    assert any(d["dtype"] == np.float16 for d in stored)
    features, _ = eval_features(penguin)
    full = tflite_predict(plain / "tflite", features)
    half = tflite_predict(quantized / "tflite", features)
    assert not np.array_equal(full, half)
    np.testing.assert_allclose(half, full, atol=0.05)
    np.testing.assert_array_equal(np.argmax(half, axis=1), np.argmax(full, axis=1))


def test_errors_name_the_rewriter_and_the_model(saved_model: Path, tmp_path: Path) -> None:
    tfrw = rw.create_rewriter(rw.TFLITE_REWRITER, name="tflite_rewriter")
    out = _describe(rw.ModelType.TFLITE_MODEL, tmp_path / "out")
    with pytest.raises(RewritingError) as failure:
        tfrw.perform_rewrite(_describe(rw.ModelType.TFLITE_MODEL, saved_model), out)
    assert str(failure.value) == (
        f"Trainer: rewriter 'tflite_rewriter' (TFLiteRewriter) cannot rewrite TFLITE_MODEL "
        f"{saved_model}: TFLiteRewriter converts SavedModels only, not TFLITE_MODEL"
    )
    assert isinstance(failure.value, ValueError)  # what TFX's callers catch

    with pytest.raises(RewritingError, match=rf"cannot rewrite SAVED_MODEL {tmp_path}: no saved"):
        tfrw.perform_rewrite(_describe(rw.ModelType.SAVED_MODEL, tmp_path), out)
    with pytest.raises(RewritingError, match=r"failed to rewrite .* not TFJS_MODEL$"):
        tfrw.perform_rewrite(
            _describe(rw.ModelType.SAVED_MODEL, saved_model),
            _describe(rw.ModelType.TFJS_MODEL, tmp_path / "out"),
        )
    assert not (tmp_path / "out").exists()


def test_a_model_parsing_tf_examples_is_refused_naming_the_operation(tmp_path: Path) -> None:
    """TFX's usual serving signature (serialized tf.Examples in) needs TensorFlow's own
    ParseExample kernel, which TFLite's builtin operations lack."""
    import tensorflow as tf

    class Parse(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples: Any) -> dict[str, Any]:
            spec = {"x": tf.io.FixedLenFeature([1], tf.float32)}
            return {"y": 2.0 * tf.io.parse_example(examples, spec)["x"]}

    module = Parse()
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"serving_default": module.serve})
    with pytest.raises(RewritingError) as failure:
        rw.create_rewriter(rw.TFLITE_REWRITER, name="tflite_rewriter").perform_rewrite(
            _describe(rw.ModelType.SAVED_MODEL, tmp_path / "sm"),
            _describe(rw.ModelType.TFLITE_MODEL, tmp_path / "out"),
        )
    message = str(failure.value)
    print("\n" + message)
    assert message.startswith(
        f"Trainer: rewriter 'tflite_rewriter' (TFLiteRewriter) failed to rewrite SAVED_MODEL "
        f"{tmp_path}/sm: tf.lite.TFLiteConverter failed: ConverterError: "
    )
    assert message.endswith("TF Select ops: ParseExampleV2")
    assert not (tmp_path / "out" / "tflite").exists()


class _BrokenRewriter(rw.TFLiteRewriter):
    """Writes bytes that are no flatbuffer, as a faulty converter might."""

    def _rewrite(self, original_model: rw.ModelDescription, rewritten: rw.ModelDescription) -> None:
        os.makedirs(rewritten.path, exist_ok=True)
        Path(rewritten.path, self.filename).write_bytes(b"not a model")


def test_a_model_the_interpreter_cannot_load_fails_the_rewrite(
    saved_model: Path, tmp_path: Path
) -> None:
    # A user's subclass is found by name, as in TFX's factory.
    broken = rw.create_rewriter("_BrokenRewriter", name="broken")
    with pytest.raises(RewritingError) as failure:
        broken.perform_rewrite(
            _describe(rw.ModelType.SAVED_MODEL, saved_model),
            _describe(rw.ModelType.TFLITE_MODEL, tmp_path),
        )
    assert str(failure.value).startswith(
        f"Trainer: rewriter 'broken' (_BrokenRewriter) wrote an unusable model at TFLITE_MODEL "
        f"{tmp_path}: tf.lite.Interpreter cannot load {tmp_path}/tflite: "
    )


def test_factory_and_constructor_errors() -> None:
    with pytest.raises(RewriterUnavailableError, match="needs tensorflowjs, which is not install"):
        rw.create_rewriter(rw.TFJS_REWRITER, name="tfjs")
    with pytest.raises(RewritingError, match=r"no rewriter named 'Nope'; known: .*TFLiteRewriter"):
        rw.create_rewriter("Nope", name="x")
    with pytest.raises(ValueError, match="needs a representative_dataset"):
        rw.create_rewriter(rw.TFLITE_REWRITER, name="x", quantization_enable_full_integer=True)
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        rw.TFLiteRewriter(name="")
    with pytest.raises(ValueError, match="filename must be a file name"):
        rw.TFLiteRewriter(name="x", filename="a/b")


def test_unknown_converter_option_is_named(saved_model: Path, tmp_path: Path) -> None:
    tfrw = rw.TFLiteRewriter(name="x", no_such_setting=1)
    with pytest.raises(TypeError, match="'no_such_setting' is not a TFLiteConverter setting"):
        tfrw.perform_rewrite(
            _describe(rw.ModelType.SAVED_MODEL, saved_model),
            _describe(rw.ModelType.TFLITE_MODEL, tmp_path),
        )


def test_importing_the_rewriting_module_imports_no_tensorflow() -> None:
    assert imported_heavy_modules(["headrace_trainer", "headrace_trainer.rewriting"]) == []
