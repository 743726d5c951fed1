"""Test helpers: the real penguin examples as ExampleGen leaves them, and small SavedModels
that serve, that do not load, and that take requests a canary cannot send."""

from __future__ import annotations

import shutil
from pathlib import Path

from headrace_core import Examples, Model
from headrace_core.testing import require_test_data, test_data_dir
from headrace_tfdv_io.testing import write_examples

__all__ = ["PENGUIN_CSV", "examples_artifact", "make_examples", "make_models", "model_artifact"]

PENGUIN_CSV = test_data_dir(__file__) / "penguin" / "penguins_processed.csv"


def make_examples(root: Path) -> Path:
    write_examples(require_test_data(PENGUIN_CSV), root)
    return root


def examples_artifact(uri: Path) -> Examples:
    artifact = Examples(str(uri), properties={"split_names": '["train", "eval"]', "span": 0})
    artifact.set_custom_property("payload_format", "FORMAT_TF_EXAMPLE")
    return artifact


def model_artifact(uri: Path) -> Model:
    return Model(str(uri), id=3)


def make_models(root: Path) -> dict[str, Path]:
    """``good`` (serving_default over serialized examples), ``two_inputs`` (a signature a
    canary request cannot call) and ``corrupt`` (a saved_model.pb that does not parse), each
    as ``<uri>/Format-Serving``."""
    import tensorflow as tf

    class Mass(tf.Module):
        spec = {"body_mass_g": tf.io.FixedLenFeature([1], tf.float32)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, serialized: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"kg": tf.io.parse_example(serialized, self.spec)["body_mass_g"] * 2.0}

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.float32, name="a"),
                tf.TensorSpec([None], tf.float32, name="b"),
            ]
        )
        def add(self, a: tf.Tensor, b: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"sum": a + b}

    models = {name: root / name for name in ("good", "two_inputs", "corrupt")}
    module = Mass()
    tf.saved_model.save(
        module, str(models["good"] / "Format-Serving"), signatures={"serving_default": module.serve}
    )
    tf.saved_model.save(
        module,
        str(models["two_inputs"] / "Format-Serving"),
        signatures={"serving_default": module.add},
    )
    shutil.copytree(models["good"], models["corrupt"])
    (models["corrupt"] / "Format-Serving" / "saved_model.pb").write_bytes(b"not a SavedModel")
    return models
