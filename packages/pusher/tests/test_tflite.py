"""A TFLite model (what TFX's TFLite rewriter leaves in ``Format-Serving``: a ``tflite`` file
and the SavedModel's ``assets``) is pushed like a SavedModel: whole, by one rename, its model
file last."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pusher_testing import blessing, run_pusher

from headrace_core import Model
from headrace_core.cache import fingerprint_path
from headrace_pusher import filesystem as fs


@pytest.fixture(scope="module")
def tflite_model(saved_models: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Model ``a`` (``y = 2x``) converted by TensorFlow's TFLite converter, in the layout TFX's
    rewriter writes: ``Format-Serving/tflite`` and ``Format-Serving/assets/``."""
    import tensorflow as tf

    uri = tmp_path_factory.mktemp("tflite_model")
    serving = uri / "Format-Serving"
    (serving / "assets").mkdir(parents=True)
    (serving / "assets" / "labels.txt").write_text("y\n")
    flatbuffer = tf.lite.TFLiteConverter.from_saved_model(saved_models["a"]).convert()
    (serving / "tflite").write_bytes(flatbuffer)
    return uri


def _interpret(path: Path, values: list[float]) -> list[float]:
    import numpy as np
    import tensorflow as tf

    runner = tf.lite.Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    return [float(v) for v in runner(x=np.array(values, dtype=np.float32))["y"]]


def test_a_tflite_model_is_pushed_like_any_model(
    tflite_model: Path, tmp_path: Path, serving: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[str] = []
    real_copy = fs._copy_file

    def recording_copy(src: str, dst: str) -> None:
        copied.append(os.path.basename(dst))
        real_copy(src, dst)

    monkeypatch.setattr(fs, "_copy_file", recording_copy)
    model = Model(str(tflite_model))
    pushed = run_pusher(
        tmp_path / "pushed",
        model,
        {"filesystem": {"base_directory": str(serving)}},
        model_blessing=blessing(tmp_path / "blessing", 1),
    )

    version = pushed.get_custom_property("pushed_version")
    target = serving / str(version)
    assert pushed.get_custom_property("pushed") == 1
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == [
        "assets",
        "assets/labels.txt",
        "tflite",
    ]
    # The model file last, through a temporary name, as saved_model.pb is.
    assert copied == ["labels.txt", ".tflite.headrace-tmp"]
    assert _interpret(target / "tflite", [1.0, 2.5]) == [2.0, 5.0]
    assert fingerprint_path(str(target)) == fingerprint_path(str(tflite_model / "Format-Serving"))
    assert fingerprint_path(pushed.uri) == fingerprint_path(str(tflite_model / "Format-Serving"))

    # The same model pushed again: the latest version already holds it.
    again = fs.push_saved_model(str(tflite_model / "Format-Serving"), str(serving))
    assert again.reused and again.version == int(version)


def test_find_saved_model_accepts_a_tflite_model(tflite_model: Path) -> None:
    serving = tflite_model / "Format-Serving"
    assert fs.find_saved_model(str(serving), str(tflite_model)) == str(serving / "tflite")
