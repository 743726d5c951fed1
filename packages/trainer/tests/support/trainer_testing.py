"""Test helpers: where the real data is, and the penguin data in TFX's on-disk layouts.

Kept out of ``fixtures/`` on purpose: that folder holds user module files, and the Trainer
reloads the modules beside a module file when it loads one.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import headrace_tfdv_io as tfdv_io
from headrace_core import Artifact, Examples, Model, ModelRun, Schema, TransformGraph
from headrace_core.testing import require_test_data as require
from headrace_core.testing import test_data_dir
from headrace_tfdv_io.testing import write_examples

__all__ = [
    "DATA",
    "FEATURES",
    "FIXTURES",
    "LABEL",
    "PENGUIN",
    "SPLITS",
    "SPLIT_NAMES",
    "TFLITE_MODULE",
    "PenguinData",
    "eval_features",
    "make_penguin_data",
    "penguin_inputs",
    "read_schema",
    "require",
    "run_trainer",
    "tflite_predict",
]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATA = test_data_dir(__file__)
PENGUIN = DATA / "penguin"
SPLITS = ("train", "eval")
SPLIT_NAMES = '["train", "eval"]'
FEATURES = ("culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g")
LABEL = "species"
TFLITE_MODULE = FIXTURES / "tflite_module.py"


@dataclass(frozen=True)
class PenguinData:
    """The penguin data as upstream components would leave it, and artifacts pointing at it."""

    raw_examples: Path
    schema: Path
    transform_graph: Path
    transformed_examples: Path

    def examples_artifact(self, transformed: bool = True) -> Examples:
        uri = self.transformed_examples if transformed else self.raw_examples
        artifact = Examples(str(uri), properties={"split_names": SPLIT_NAMES, "span": 0})
        artifact.set_custom_property("payload_format", "FORMAT_TF_EXAMPLE")
        return artifact

    def schema_artifact(self) -> Schema:
        return Schema(str(self.schema))

    def transform_artifact(self) -> TransformGraph:
        return TransformGraph(str(self.transform_graph))


def _penguin_split(index: int, splits: tuple[str, ...]) -> str:
    """Every third row (from the first) is eval: ExampleGen's 2:1, but deterministic."""
    return splits[-1] if index % 3 == 0 else splits[0]


def _write_raw_examples(uri: Path) -> None:
    write_examples(require(PENGUIN / "penguins_processed.csv"), uri, split_of=_penguin_split)


def read_schema(path: Path) -> Any:
    return tfdv_io.read_schema(str(path))


def _encode(batch_and_passthrough: tuple[Any, Any], schema: Any) -> list[bytes]:
    from tfx_bsl.public import tfxio

    encoded: list[bytes] = tfxio.RecordBatchToExamplesEncoder(schema).encode(
        batch_and_passthrough[0]
    )
    return encoded


def _transform(data: PenguinData, temp_dir: Path) -> None:
    """Analyze the train split, write the transform graph, transform both splits (Beam)."""
    import apache_beam as beam
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from penguin_module import preprocessing_fn
    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io
    from tfx_bsl.public import tfxio

    schema = read_schema(data.schema / "schema.pbtxt")
    sources = {
        split: tfxio.TFExampleRecord(
            file_pattern=str(data.raw_examples / f"Split-{split}" / "*"),
            schema=schema,
            telemetry_descriptors=["headrace-trainer-tests"],
        )
        for split in SPLITS
    }
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(temp_dir)):
        raw = {
            split: pipeline | f"Read{split}" >> source.BeamSource()
            for split, source in sources.items()
        }
        config = sources["train"].TensorAdapterConfig()
        transform_fn = (raw["train"], config) | "Analyze" >> tft_beam.AnalyzeDataset(
            preprocessing_fn
        )
        _ = transform_fn | "WriteTransformFn" >> tft_beam.WriteTransformFn(
            str(data.transform_graph)
        )
        for split in SPLITS:
            # Record batches encoded by tfx-bsl, as TFX's Transform does. (TFT's
            # ExampleProtoCoder here leaves the interpreter to crash when it exits.)
            transformed, metadata = ((raw[split], config), transform_fn) | (
                f"Transform{split}" >> tft_beam.TransformDataset(output_record_batches=True)
            )
            _ = (
                transformed
                | f"Encode{split}" >> beam.FlatMap(_encode, metadata.schema)
                | f"Write{split}"
                >> beam.io.WriteToTFRecord(
                    str(data.transformed_examples / f"Split-{split}" / "transformed_examples"),
                    file_name_suffix=".gz",
                    num_shards=1,
                )
            )
    # TFX's Transform also keeps the raw metadata beside the graph: TFTransformOutput reads
    # raw_feature_spec() (what a serving signature parses) from it.
    metadata_io.write_metadata(
        dataset_metadata.DatasetMetadata(schema),
        str(data.transform_graph / tft.TFTransformOutput.RAW_METADATA_DIR),
    )


def make_penguin_data(root: Path) -> PenguinData:
    """Raw examples, schema, transform graph and transformed examples under ``root``."""
    data = PenguinData(
        raw_examples=root / "examples",
        schema=root / "schema",
        transform_graph=root / "transform_graph",
        transformed_examples=root / "transformed_examples",
    )
    _write_raw_examples(data.raw_examples)
    data.schema.mkdir()
    shutil.copy(require(PENGUIN / "schema_user_provided.pbtxt"), data.schema / "schema.pbtxt")
    _transform(data, root / "tft_tmp")
    return data


def run_trainer(
    out: Path,
    inputs: dict[str, list[Artifact]],
    **exec_properties: Any,
) -> tuple[Model, ModelRun]:
    """``Executor().Do`` as the launcher calls it: fresh output directories under ``out``."""
    # Imported here: the executor imports TensorFlow, which conftest must not do before it
    # has applied the Trainer's environment.
    from headrace_trainer.executor import Executor

    model = Model(str(out / "model"))
    model_run = ModelRun(str(out / "model_run"))
    for artifact in (model, model_run):
        os.makedirs(artifact.uri)
    Executor().Do(inputs, {"model": [model], "model_run": [model_run]}, exec_properties)
    return model, model_run


def penguin_inputs(penguin: PenguinData) -> dict[str, list[Artifact]]:
    return {
        "examples": [penguin.examples_artifact(transformed=True)],
        "transform_graph": [penguin.transform_artifact()],
        "schema": [penguin.schema_artifact()],
    }


def eval_features(penguin: PenguinData, rows: int | None = None) -> tuple[dict[str, Any], Any]:
    """The raw eval split's measurements ([n, 1] float32 each) and labels."""
    import tensorflow as tf

    files = sorted(str(p) for p in (penguin.raw_examples / "Split-eval").glob("*.gz"))
    records = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    spec = {name: tf.io.FixedLenFeature([1], tf.float32) for name in FEATURES}
    spec[LABEL] = tf.io.FixedLenFeature([1], tf.int64)
    parsed = tf.io.parse_example(records[:rows], spec)
    labels = parsed.pop(LABEL).numpy().ravel()
    return {k: v.numpy() for k, v in parsed.items()}, labels


def tflite_predict(path: Path, features: dict[str, Any]) -> Any:
    """The logits of the TFLite model at ``path``, from its ``serving_default`` signature."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner("serving_default")
    return runner(**features)["logits"]
