"""The penguin pipeline's ML work written with direct library calls, no framework; prints JSON.

    penguin_direct.py OUT_DIR [--data DIR] [--train-steps 100]

PENGUIN_MIN_ACCURACY and PENGUIN_TRAIN_STEPS mean what they mean to the pipeline.

The baseline of the ``penguin`` benchmark (tools/bench/run.py): what a competent user would
write by hand to do what ``examples/penguin/pipeline.py`` does on its first run, in one
process, with the same libraries, the same module file and the same configuration:

1. Ingest: one Beam pipeline, ``ReadFromText`` -> tfx-bsl's ``CSVToRecordBatch`` (column
   types inferred over the rows, as TFX's CsvExampleGen decodes) -> tfx-bsl's
   ``RecordBatchToExamplesEncoder`` -> a 2:1 train/eval split by sha256 of the serialized
   example -> gzipped TFRecords, ``OUT/examples/Split-<name>/``.
2. Statistics: one Beam pipeline, ``TFExampleRecord`` -> ``tfdv.GenerateStatistics`` per
   split.
3. Schema and validation: ``tfdv.infer_schema`` (``infer_feature_shape=True``) on train,
   ``tfdv.update_schema`` with eval (as TFX's SchemaGen), ``tfdv.validate_statistics`` of each
   split.
4. tf.Transform: one Beam pipeline, ``AnalyzeAndTransformDataset`` on train and
   ``TransformDataset`` on eval with ``preprocessing_fn`` of
   ``examples/penguin/penguin_utils.py``; writes the transform graph (with the raw schema, as
   TFX's Transform) and gzipped transformed examples.
5. Training: ``penguin_utils.run_fn`` with an FnArgs-like object (100 train steps, 5 eval
   steps), its data accessor built directly on tfx-bsl's ``TFExampleRecord``.
6. Evaluation: ``tfma.run_model_analysis`` on the raw eval split with the pipeline's own
   eval_config (the text of ``_eval_config(PENGUIN_MIN_ACCURACY or 0.6)`` in the pipeline
   file, read without importing the pipeline, which imports headrace),
   ``model_type='tf_generic'`` as headrace's Evaluator sets it, and the change threshold
   dropped since there is no baseline (a first run).
7. Push: if TFMA's validation passed, the SavedModel is copied to
   ``OUT/serving_model/<int(time.time())>/``.

Two settings make it as fast as a competent user's script (the pipeline's executors make the
same ones, so neither side is slowed by a known trap): ``TF_USE_LEGACY_KERAS=1`` before
TensorFlow is imported (tf.Transform and TFMA need Keras 2), and AutoGraph's
``DoNotConvert('tf_keras')`` rule (TensorFlow 2.16 lacks it, and without it the first trace of
``model.fit`` transpiles tf_keras's own source: ~15 s more for the same model). Beam runs on
the default DirectRunner, as the pipeline does. No headrace module is imported.

Prints one JSON line: the seconds of each step, the example counts and the overall accuracy.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before TensorFlow: tf.keras reads it once

import argparse
import ast
import glob
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PENGUIN = ROOT / "examples" / "penguin"
SPLITS = (("train", 2), ("eval", 1))  # the default output_config of a one-split ExampleGen
# The pipeline's knobs, read from the same environment variables with the same defaults.
MIN_ACCURACY = float(os.environ.get("PENGUIN_MIN_ACCURACY", "0.6"))
TRAIN_STEPS = int(os.environ.get("PENGUIN_TRAIN_STEPS", "100"))


def _pipeline_eval_config_text(min_accuracy: float) -> str:
    """``_eval_config(min_accuracy)`` of the pipeline file, without importing the file (it
    imports headrace): its function definition alone is executed."""
    path = PENGUIN / "pipeline.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "_eval_config":
            node.returns = None  # annotations may name what is not defined here
            namespace: dict[str, Any] = {}
            exec(compile(ast.Module([node], []), str(path), "exec"), namespace)
            text: str = namespace["_eval_config"](min_accuracy)
            return text
    raise RuntimeError(f"{path} defines no _eval_config function")


def disable_autograph_for_tf_keras() -> None:
    """Add AutoGraph's ``DoNotConvert('tf_keras')`` rule (later TensorFlow releases ship it)."""
    from tensorflow.python.autograph.core import config as autograph_config

    rules = autograph_config.CONVERSION_RULES
    if not any(
        isinstance(r, autograph_config.DoNotConvert) and r.matches("tf_keras") for r in rules
    ):
        autograph_config.CONVERSION_RULES = (*rules, autograph_config.DoNotConvert("tf_keras"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="output directory (created; must not exist or be empty)")
    parser.add_argument("--data", default=str(PENGUIN / "data"), help="directory of one CSV")
    parser.add_argument("--train-steps", type=int, default=TRAIN_STEPS)
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    if os.path.isdir(out) and os.listdir(out):
        parser.error(f"{out} is not empty")
    times: dict[str, float] = {}
    started = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        times[name] = now - last
        last = now

    import csv

    import apache_beam as beam
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    import tensorflow_model_analysis as tfma
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from google.protobuf import text_format
    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io
    from tfx_bsl.coders import csv_decoder
    from tfx_bsl.public import tfxio

    sys.path.insert(0, str(PENGUIN))
    import penguin_utils

    lap("imports")

    # 1. CSV -> gzipped tf.Example TFRecords, split 2:1 by a hash of the serialized record.
    (csv_path,) = sorted(glob.glob(os.path.join(args.data, "*.csv")))
    with open(csv_path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    names = [name for name, _ in SPLITS]
    bounds = [sum(b for _, b in SPLITS[: i + 1]) for i in range(len(SPLITS))]

    def partition(record: bytes, _count: int) -> int:
        bucket = int(hashlib.sha256(record).hexdigest(), 16) % bounds[-1]
        return next(i for i, bound in enumerate(bounds) if bucket < bound)

    class Encode(beam.DoFn):
        def setup(self) -> None:
            self._encoder = tfxio.RecordBatchToExamplesEncoder()

        def process(self, batch: Any) -> Any:
            yield from self._encoder.encode(batch)

    examples = os.path.join(out, "examples")
    with beam.Pipeline() as p:
        records = (
            p
            | "ReadCsv" >> beam.io.ReadFromText(csv_path, skip_header_lines=1)
            | "ToRecordBatch"
            >> csv_decoder.CSVToRecordBatch(column_names=header, desired_batch_size=None)
            | "ToExamples" >> beam.ParDo(Encode())
        )
        parts = records | "Split" >> beam.Partition(partition, len(names))
        for name, part in zip(names, parts, strict=True):
            _ = part | f"Write[{name}]" >> beam.io.WriteToTFRecord(
                os.path.join(examples, f"Split-{name}", "data_tfrecord"), file_name_suffix=".gz"
            )
    split_files = {n: os.path.join(examples, f"Split-{n}", "*.gz") for n in names}
    lap("ingest")

    # 2. Statistics of each split.
    stats_paths = {
        n: os.path.join(out, "statistics", f"Split-{n}", "FeatureStats.pb") for n in names
    }
    with beam.Pipeline() as p:
        for name in names:
            _ = (
                p
                | f"Read[{name}]"
                >> tfxio.TFExampleRecord(file_pattern=split_files[name]).BeamSource()
                | f"Stats[{name}]" >> tfdv.GenerateStatistics(tfdv.StatsOptions())
                | f"WriteStats[{name}]" >> tfdv.WriteStatisticsToBinaryFile(stats_paths[name])
            )
    stats = {n: tfdv.load_stats_binary(path) for n, path in stats_paths.items()}
    lap("statistics")

    # 3. Schema (inferred over every split, as TFX's SchemaGen) and validation of each split.
    schema = tfdv.infer_schema(stats[names[0]], infer_feature_shape=True)
    for name in names[1:]:
        schema = tfdv.update_schema(schema, stats[name], infer_feature_shape=True)
    os.makedirs(os.path.join(out, "schema"))
    tfdv.write_schema_text(schema, os.path.join(out, "schema", "schema.pbtxt"))
    anomalies = {n: tfdv.validate_statistics(stats[n], schema) for n in names}
    for name, found in anomalies.items():
        path = os.path.join(out, "anomalies", f"Split-{name}", "SchemaDiff.pb")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(found.SerializeToString())
    lap("schema_and_validation")

    # 4. tf.Transform: analyze train, transform both splits, write the graph and the examples.
    transform_graph = os.path.join(out, "transform_graph")
    transformed = os.path.join(out, "transformed_examples")

    class EncodeTransformed(beam.DoFn):
        def setup(self) -> None:
            self._encoder = tfxio.RecordBatchToExamplesEncoder()

        def process(self, element: Any) -> Any:
            record_batch, _ = element
            yield from self._encoder.encode(record_batch)

    sources = {n: tfxio.TFExampleRecord(file_pattern=split_files[n], schema=schema) for n in names}
    with tft_beam.Context(temp_dir=os.path.join(out, "tmp", "tft")), beam.Pipeline() as p:
        raw = {n: p | f"Read[{n}]" >> sources[n].BeamSource() for n in names}
        (train_data, _), transform_fn = (
            raw["train"],
            sources["train"].TensorAdapterConfig(),
        ) | "AnalyzeAndTransform" >> tft_beam.AnalyzeAndTransformDataset(
            penguin_utils.preprocessing_fn, output_record_batches=True
        )
        eval_data, _ = (
            (raw["eval"], sources["eval"].TensorAdapterConfig()),
            transform_fn,
        ) | "TransformEval" >> tft_beam.TransformDataset(output_record_batches=True)
        _ = transform_fn | "WriteTransformFn" >> tft_beam.WriteTransformFn(transform_graph)
        for name, data in (("train", train_data), ("eval", eval_data)):
            _ = (
                data
                | f"Encode[{name}]" >> beam.ParDo(EncodeTransformed())
                | f"Write[{name}]"
                >> beam.io.WriteToTFRecord(
                    os.path.join(transformed, f"Split-{name}", "transformed_examples"),
                    file_name_suffix=".gz",
                )
            )
    # The raw schema beside the graph: the serving signature parses raw examples with it.
    metadata_io.write_metadata(
        dataset_metadata.DatasetMetadata(schema),
        os.path.join(transform_graph, tft.TFTransformOutput.RAW_METADATA_DIR),
    )
    lap("transform")

    # 5. The same Keras training: penguin_utils.run_fn with TFX's FnArgs fields it reads.
    disable_autograph_for_tf_keras()

    def tf_dataset_factory(file_pattern: Any, options: Any, schema: Any) -> tf.data.Dataset:
        return tfxio.TFExampleRecord(file_pattern=file_pattern, schema=schema).TensorFlowDataset(
            options
        )

    serving_model_dir = os.path.join(out, "model", "Format-Serving")
    penguin_utils.run_fn(
        SimpleNamespace(
            train_files=[os.path.join(transformed, "Split-train", "*")],
            eval_files=[os.path.join(transformed, "Split-eval", "*")],
            transform_output=transform_graph,
            transform_graph_path=transform_graph,
            serving_model_dir=serving_model_dir,
            train_steps=args.train_steps,
            eval_steps=5,
            data_accessor=SimpleNamespace(tf_dataset_factory=tf_dataset_factory),
            custom_config=None,
        )
    )
    lap("training")

    # 6. TFMA on the raw eval split with the pipeline's eval_config; no baseline on a first
    # run, so the change threshold has nothing to compare with and is dropped.
    config = text_format.Parse(_pipeline_eval_config_text(MIN_ACCURACY), tfma.EvalConfig())
    for spec in config.model_specs:
        spec.model_type = spec.model_type or "tf_generic"
    for metrics_spec in config.metrics_specs:
        for metric in metrics_spec.metrics:
            metric.threshold.ClearField("change_threshold")
    evaluation = os.path.join(out, "evaluation")
    tfma.run_model_analysis(
        eval_shared_model=tfma.default_eval_shared_model(
            eval_saved_model_path=serving_model_dir, eval_config=config
        ),
        eval_config=config,
        data_location=split_files["eval"],
        file_format="tfrecords",
        output_path=evaluation,
    )
    validation = tfma.load_validation_result(evaluation)
    accuracy = None
    for metrics in tfma.load_metrics(evaluation):
        if not metrics.slice_key.single_slice_keys:
            for entry in metrics.metric_keys_and_values:
                if entry.key.name == "sparse_categorical_accuracy" and not entry.key.is_diff:
                    accuracy = entry.value.double_value.value
    lap("evaluation")

    # 7. Push a blessed model into TF Serving's versioned layout.
    pushed = None
    if validation.validation_ok:
        base = os.path.join(out, "serving_model")
        os.makedirs(base, exist_ok=True)
        versions = [int(n) for n in os.listdir(base) if n.isdigit()]
        version = max([int(time.time()), *(v + 1 for v in versions)])
        pushed = os.path.join(base, str(version))
        shutil.copytree(serving_model_dir, pushed)
    lap("push")

    print(
        json.dumps(
            {
                "seconds": times,
                "total": time.perf_counter() - started,
                "examples": {n: stats[n].datasets[0].num_examples for n in names},
                "anomalies": {n: len(a.anomaly_info) for n, a in anomalies.items()},
                "accuracy": accuracy,
                "blessed": bool(validation.validation_ok),
                "pushed": pushed,
                "keras": tf.keras.__name__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
