"""Test helpers: the real penguin data as ExampleGen leaves it, and a model whose predictions
the tests can compute by hand.

The model is a plain ``tf.Module`` (no training, no Keras): fixed weights over the four
measurements, exported as the Trainer exports a model (``<uri>/Format-Serving``, a
``serving_default`` signature over serialized tf.Examples), so every prediction is known
exactly from the CSV row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headrace_core import Examples, Model, ModelBlessing
from headrace_core.testing import require_test_data as require
from headrace_core.testing import test_data_dir
from headrace_tfdv_io.testing import tfx_split, write_examples

__all__ = [
    "FEATURES",
    "PENGUIN_CSV",
    "SPLIT_NAMES",
    "WEIGHTS",
    "PenguinData",
    "blessing",
    "expected_logits",
    "make_penguin_data",
    "read_records",
]

PENGUIN_CSV = test_data_dir(__file__) / "penguin" / "penguins_processed.csv"
FEATURES = ("culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g")
SPLIT_NAMES = '["train", "eval"]'
# logits = x @ WEIGHTS + BIAS, three classes.
WEIGHTS = ((1.0, -2.0, 0.5), (0.25, 1.0, -1.0), (-0.5, 0.0, 2.0), (2.0, 0.5, -0.25))
BIAS = (0.1, -0.2, 0.3)


@dataclass(frozen=True)
class PenguinData:
    examples: Path
    model: Path
    #: split -> the CSV rows in it, in file order
    rows: dict[str, list[dict[str, str]]]

    def examples_artifact(self) -> Examples:
        artifact = Examples(str(self.examples), properties={"split_names": SPLIT_NAMES, "span": 0})
        artifact.set_custom_property("payload_format", "FORMAT_TF_EXAMPLE")
        return artifact

    def model_artifact(self) -> Model:
        return Model(str(self.model), id=3)


def blessing(path: Path, blessed: bool) -> ModelBlessing:
    artifact = ModelBlessing(str(path), id=4)
    artifact.set_custom_property("blessed", 1 if blessed else 0)
    return artifact


def expected_logits(row: dict[str, str]) -> list[float]:
    x = [float(row[name]) for name in FEATURES]
    return [sum(x[i] * WEIGHTS[i][j] for i in range(4)) + BIAS[j] for j in range(3)]


def export_model(serving_dir: Path) -> None:
    """The fixed linear model with ``serving_default`` (logits) and ``scores`` (softmax)."""
    import tensorflow as tf

    class Linear(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.constant(WEIGHTS, dtype=tf.float32)
            self.b = tf.constant(BIAS, dtype=tf.float32)
            self.spec = {name: tf.io.FixedLenFeature([1], tf.float32) for name in FEATURES}

        def logits(self, serialized: tf.Tensor) -> tf.Tensor:
            parsed = tf.io.parse_example(serialized, self.spec)
            x = tf.concat([parsed[name] for name in FEATURES], axis=1)
            return tf.matmul(x, self.w) + self.b

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, serialized: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"logits": self.logits(serialized)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def scores(self, serialized: tf.Tensor) -> dict[str, tf.Tensor]:
            logits = self.logits(serialized)
            return {
                "probabilities": tf.nn.softmax(logits),
                "class_id": tf.argmax(logits, axis=1),
            }

    module = Linear()
    tf.saved_model.save(
        module,
        str(serving_dir),
        signatures={"serving_default": module.serve, "scores": module.scores},
    )


def make_penguin_data(root: Path) -> PenguinData:
    """The penguin examples (TFX's 2:1 split by row index) and the model under ``root``."""
    with open(require(PENGUIN_CSV), newline="") as f:
        all_rows = list(csv.DictReader(f))
    rows: dict[str, list[dict[str, str]]] = {"train": [], "eval": []}
    for i, row in enumerate(all_rows):
        rows[tfx_split(i, ("train", "eval"))].append(row)
    write_examples(PENGUIN_CSV, root / "examples", split_of=tfx_split)
    export_model(root / "model" / "Format-Serving")
    return PenguinData(examples=root / "examples", model=root / "model", rows=rows)


def read_records(pattern_dir: Path, glob: str, message: Any) -> list[Any]:
    """Every record of the gzipped TFRecord files matching ``glob`` in ``pattern_dir``."""
    import tensorflow as tf

    files = sorted(str(p) for p in pattern_dir.glob(glob))
    assert files, f"no {glob} in {pattern_dir}: {sorted(p.name for p in pattern_dir.iterdir())}"
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [message.FromString(r.numpy()) for r in dataset]
