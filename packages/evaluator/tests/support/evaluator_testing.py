"""Test helpers: the real penguin data as ExampleGen leaves it, and small trained models.

The models are tf_keras networks exported the way the penguin module exports them: a
``serving_default`` signature that takes serialized tf.Examples and returns logits.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headrace_core import Examples, Model, ModelBlessing, ModelEvaluation, Schema
from headrace_core.testing import require_test_data as require
from headrace_core.testing import test_data_dir
from headrace_tfdv_io.testing import write_examples

__all__ = [
    "DATA",
    "FEATURES",
    "LABEL",
    "ONLY_CHANGE",
    "PENGUIN",
    "PENGUIN_CONFIG",
    "SPLIT_NAMES",
    "PenguinData",
    "make_penguin_data",
    "penguin_rows",
    "require",
    "run_evaluator",
    "train_model",
]

DATA = test_data_dir(__file__)
PENGUIN = DATA / "penguin"
FEATURES = ("culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g")
LABEL = "species"
SPLIT_NAMES = '["train", "eval"]'

# A config like the penguin pipeline's: accuracy overall, per species (categorical) and per
# bucket of flipper length (bucketized in SQL: the features are in [0, 1], three buckets), at
# least 0.6, and no worse than the baseline.
PENGUIN_CONFIG = """
model_specs { label_key: "species" }
metrics_specs {
  metrics {
    class_name: "SparseCategoricalAccuracy"
    threshold {
      value_threshold { lower_bound { value: 0.6 } }
      change_threshold { direction: HIGHER_IS_BETTER absolute { value: -1e-10 } }
    }
  }
  metrics { class_name: "ExampleCount" }
}
slicing_specs {}
slicing_specs { feature_keys: "species" }
slicing_specs {
  slice_keys_sql: "SELECT STRUCT(CAST(FLOOR(flipper_length_mm * 3) AS INT64) AS flipper_bucket) "
                  "FROM example.flipper_length_mm"
}
"""

ONLY_CHANGE = """
model_specs { label_key: "species" }
metrics_specs {
  metrics {
    class_name: "SparseCategoricalAccuracy"
    threshold { change_threshold { direction: HIGHER_IS_BETTER absolute { value: 0 } } }
  }
}
"""


@dataclass(frozen=True)
class PenguinData:
    """Penguin examples in Split-train/Split-eval, the curated schema, and two models."""

    examples: Path
    schema: Path
    model: Path
    weak_model: Path

    def examples_artifact(self) -> Examples:
        artifact = Examples(str(self.examples), properties={"split_names": SPLIT_NAMES, "span": 0})
        artifact.set_custom_property("payload_format", "FORMAT_TF_EXAMPLE")
        return artifact

    def schema_artifact(self) -> Schema:
        return Schema(str(self.schema))

    def model_artifact(self, weak: bool = False, id: int | None = None) -> Model:
        return Model(str(self.weak_model if weak else self.model), id=id)


def penguin_split(index: int, splits: tuple[str, ...] = ("train", "eval")) -> str:
    """Every third row (from the first) is eval: ExampleGen's 2:1, but deterministic."""
    return splits[-1] if index % 3 == 0 else splits[0]


def penguin_rows() -> dict[str, list[dict[str, str]]]:
    with open(require(PENGUIN / "penguins_processed.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        split: [r for i, r in enumerate(rows) if penguin_split(i) == split]
        for split in ("train", "eval")
    }


def _no_autograph_for_tf_keras() -> None:
    # TF 2.16's AutoGraph transpiles tf_keras's own train_step (seconds); the Trainer adds the
    # same rule.
    from tensorflow.python.autograph.core import config as autograph_config

    rules = autograph_config.CONVERSION_RULES
    if not any(
        isinstance(r, autograph_config.DoNotConvert) and r.matches("tf_keras") for r in rules
    ):
        autograph_config.CONVERSION_RULES = (*rules, autograph_config.DoNotConvert("tf_keras"))


def train_model(
    serving_dir: Path,
    rows: list[dict[str, str]],
    epochs: int,
    *,
    seed: int = 0,
    probabilities: bool = False,
) -> None:
    """A small tf_keras network on the four measurements, exported with a ``serving_default``
    signature over serialized tf.Examples (raw features in, logits out; with
    ``probabilities``, their softmax, which thresholded metrics such as Fairness Indicators
    need)."""
    import numpy as np
    import tensorflow as tf

    keras = tf.keras
    assert keras.__name__.startswith("tf_keras"), "TF_USE_LEGACY_KERAS=1 must be set first"
    _no_autograph_for_tf_keras()
    keras.utils.set_random_seed(seed)
    x = {name: np.array([[float(r[name])] for r in rows], dtype=np.float32) for name in FEATURES}
    y = np.array([int(r[LABEL]) for r in rows], dtype=np.int64)

    inputs = [keras.layers.Input(shape=(1,), name=name) for name in FEATURES]
    hidden = keras.layers.concatenate(inputs)
    hidden = keras.layers.Dense(8, activation="relu")(hidden)
    outputs = keras.layers.Dense(3)(hidden)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(5e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    if epochs:
        model.fit(x, y, batch_size=20, epochs=epochs, verbose=0)

    feature_spec = {name: tf.io.FixedLenFeature([1], tf.float32) for name in FEATURES}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples_fn(serialized: tf.Tensor) -> tf.Tensor:
        logits = model(tf.io.parse_example(serialized, feature_spec))
        return tf.nn.softmax(logits) if probabilities else logits

    model.save(
        str(serving_dir), save_format="tf", signatures={"serving_default": serve_tf_examples_fn}
    )


def make_penguin_data(root: Path) -> PenguinData:
    """Examples, schema, a trained model and a barely trained one under ``root``.

    Model artifacts hold the SavedModel in ``Format-Serving/``, as the Trainer writes it.
    """
    import shutil

    rows = penguin_rows()
    data = PenguinData(
        examples=root / "examples",
        schema=root / "schema",
        model=root / "model",
        weak_model=root / "weak_model",
    )
    write_examples(
        require(PENGUIN / "penguins_processed.csv"), data.examples, split_of=penguin_split
    )
    data.schema.mkdir()
    shutil.copy(require(PENGUIN / "schema_user_provided.pbtxt"), data.schema / "schema.pbtxt")
    train_model(data.model / "Format-Serving", rows["train"], epochs=30)
    train_model(data.weak_model / "Format-Serving", rows["train"], epochs=0, seed=1)
    return data


def run_evaluator(
    out: Path,
    data: PenguinData,
    eval_config: Any,
    *,
    weak: bool = False,
    baseline: str | None = None,
    schema: bool = True,
    **exec_properties: Any,
) -> tuple[ModelEvaluation, ModelBlessing]:
    """Run the executor directly, as the launcher would; return the two outputs.

    ``baseline`` is ``"model"`` or ``"weak"``; models get ids (3 the candidate, 2 the baseline)
    as the launcher's would have.
    """
    from headrace_evaluator import normalize_eval_config
    from headrace_evaluator.executor import Executor

    evaluation = ModelEvaluation(str(out / "evaluation"), id=11)
    blessing = ModelBlessing(str(out / "blessing"), id=12)
    inputs: dict[str, list[Any]] = {
        "examples": [data.examples_artifact()],
        "model": [data.model_artifact(weak=weak, id=3)],
    }
    if schema:
        inputs["schema"] = [data.schema_artifact()]
    if baseline is not None:
        inputs["baseline_model"] = [data.model_artifact(weak=baseline == "weak", id=2)]
    if not isinstance(eval_config, str) or not eval_config.lstrip().startswith("{"):
        added = bool(exec_properties.get("fairness_indicator_thresholds"))
        eval_config = normalize_eval_config(eval_config, metrics_added=added)
    Executor().Do(
        inputs,
        {"evaluation": [evaluation], "blessing": [blessing]},
        {"eval_config": eval_config, **exec_properties},
    )
    return evaluation, blessing
