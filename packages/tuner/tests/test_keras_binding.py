"""KerasTuner runs on the Keras ``tf.keras`` is. Each case is a fresh interpreter: which Keras
KerasTuner takes is decided once per process, at its first import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, sys
{imports}
import tensorflow as tf
import keras_tuner
from keras_tuner.src.backend import config, keras as kt_keras
model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
print(json.dumps({{
    "tf_keras": tf.keras.__name__,
    "multi_backend": bool(config.multi_backend()),
    "accepts_tf_keras_model": isinstance(model, kt_keras.Model),
    "keras_module": sys.modules["keras"].__name__ if "keras" in sys.modules else None,
}}))
"""


def _probe(imports: str, legacy: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    if legacy:
        env["TF_USE_LEGACY_KERAS"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_without_the_hook_keras_tuner_refuses_tf_keras_models() -> None:
    # What a TFX user meets under TensorFlow 2.16 with Keras 2: the reason for the hook.
    seen = _probe("", legacy=True)
    assert seen["tf_keras"].startswith("tf_keras")  # type: ignore[union-attr]
    assert seen["multi_backend"] is True
    assert seen["accepts_tf_keras_model"] is False


@pytest.mark.parametrize("keras_first", [False, True], ids=["keras-unimported", "keras-imported"])
def test_with_headrace_tuner_imported_keras_tuner_takes_tf_keras(keras_first: bool) -> None:
    imports = ("import keras\n" if keras_first else "") + "import headrace_tuner"
    seen = _probe(imports, legacy=True)
    assert seen["multi_backend"] is False
    assert seen["accepts_tf_keras_model"] is True
    # The swap is undone: the rest of the process sees `keras` as it was (never tf_keras).
    assert seen["keras_module"] != "tf_keras"
    if keras_first:
        assert seen["keras_module"] == "keras"


def test_with_keras_3_selected_the_hook_stays_out_of_the_way() -> None:
    seen = _probe("import headrace_tuner", legacy=False)
    assert seen["tf_keras"].startswith("keras")  # type: ignore[union-attr]
    assert seen["multi_backend"] is True
    assert seen["accepts_tf_keras_model"] is True
