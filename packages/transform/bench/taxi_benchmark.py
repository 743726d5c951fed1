"""Transform on the Chicago taxi data: headrace's executor against direct tft_beam calls.

Both sides do the same work in the same process: read Split-train and Split-eval (gzipped
tf.Examples) with tfx-bsl's TFExampleRecord, analyze train, transform both splits, write the
transform graph and the transformed examples. Runs alternate so a busy machine affects both
alike; wall and CPU time (this process's, all threads: the in-memory DirectRunner runs in it)
are recorded, and their medians and ratios printed (and written as JSON with ``--json PATH``).

    python packages/transform/bench/taxi_benchmark.py [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fixtures"))

from hrtf_util import FIXTURES, MODULES, TAXI, schema_artifact, write_examples  # noqa: E402


def direct(examples_uri: Path, schema_file: Path, out: Path, preprocessing_fn: Any) -> None:
    """What a user writes by hand with tft_beam, TFX's layout for the outputs."""
    import apache_beam as beam
    import tensorflow_transform.beam as tft_beam
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx_bsl.public import tfxio

    schema = text_format.Parse(schema_file.read_text(), schema_pb2.Schema())

    def source(split: str) -> Any:
        return tfxio.TFExampleRecord(
            file_pattern=str(examples_uri / f"Split-{split}" / "*"), schema=schema
        )

    def encode(element: Any) -> Any:
        return tfxio.RecordBatchToExamplesEncoder().encode(element[0])

    train_io, eval_io = source("train"), source("eval")
    with tft_beam.Context(temp_dir=str(out / "tmp")), beam.Pipeline() as p:
        train = p | "ReadTrain" >> train_io.BeamSource()
        evaluation = p | "ReadEval" >> eval_io.BeamSource()
        (train_xf, _), transform_fn = (
            train,
            train_io.TensorAdapterConfig(),
        ) | tft_beam.AnalyzeAndTransformDataset(preprocessing_fn, output_record_batches=True)
        eval_xf, _ = (
            (evaluation, eval_io.TensorAdapterConfig()),
            transform_fn,
        ) | tft_beam.TransformDataset(output_record_batches=True)
        _ = transform_fn | tft_beam.WriteTransformFn(str(out / "graph"))
        for name, data in (("train", train_xf), ("eval", eval_xf)):
            _ = (
                data
                | f"Encode{name}" >> beam.FlatMap(encode)
                | f"Write{name}"
                >> beam.io.WriteToTFRecord(
                    str(out / "examples" / f"Split-{name}" / "transformed_examples"),
                    file_name_suffix=".gz",
                )
            )


def headrace(examples: Any, schema: Any, out: Path, disable_cache: bool) -> Any:
    from headrace_core import Examples, ExecutorContext, TransformCache, TransformGraph
    from headrace_transform.executor import Executor

    outputs = {
        "transform_graph": [TransformGraph(str(out / "graph"))],
        "transformed_examples": [Examples(str(out / "examples"))],
        "updated_analyzer_cache": [TransformCache(str(out / "cache"))],
    }
    for artifacts in outputs.values():
        os.makedirs(artifacts[0].uri, exist_ok=True)
    executor = Executor(ExecutorContext(tmp_dir=str(out / "tmp")))
    executor.Do(
        {"examples": [examples], "schema": [schema]},
        outputs,
        {
            "module_file": str(MODULES / "taxi_preprocessing.py"),
            "materialize": True,
            "disable_analyzer_cache": disable_cache,
        },
    )
    return executor.last_stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    started = time.monotonic()
    import tensorflow_transform.beam  # noqa: F401

    from headrace_transform.udf import load_from_module_file

    imports = time.monotonic() - started
    root = Path(tempfile.mkdtemp(prefix="hrtf-bench-"))
    schema_file = FIXTURES / "taxi_schema.pbtxt"
    examples = write_examples(TAXI, schema_file, root / "examples", fingerprint="bench")
    schema = schema_artifact(schema_file, root / "schema")
    fn = load_from_module_file(str(MODULES / "taxi_preprocessing.py"))

    names = ("direct", "headrace", "headrace_nocache")
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for i in range(args.repeats + 1):  # the first round warms up and is not counted
        for name in names:
            out = root / f"{name}-{i}"
            t, c = time.monotonic(), time.process_time()
            if name == "direct":
                direct(root / "examples", schema_file, out, fn)
            else:
                headrace(examples, schema, out, disable_cache=name.endswith("nocache"))
            elapsed, used = time.monotonic() - t, time.process_time() - c
            if i:
                wall[name].append(round(elapsed, 3))
                cpu[name].append(round(used, 3))
            print(f"round {i} {name}: {elapsed:.2f} s wall, {used:.2f} s cpu", flush=True)
    report: dict[str, Any] = {"imports_s": round(imports, 2), "wall_s": wall, "cpu_s": cpu}
    for kind, values in (("wall", wall), ("cpu", cpu)):
        medians = {k: statistics.median(v) for k, v in values.items()}
        report[f"median_{kind}_s"] = medians
        report[f"ratio_{kind}_headrace_to_direct"] = round(
            medians["headrace"] / medians["direct"], 3
        )
        report[f"ratio_{kind}_nocache_to_direct"] = round(
            medians["headrace_nocache"] / medians["direct"], 3
        )
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
