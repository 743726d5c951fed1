"""One side of the ``data`` benchmark for tools/bench/run.py, in its own process; prints JSON.

    data_worker.py pipeline CSV_DIR WORK_DIR   # headrace: CsvExampleGen -> StatisticsGen
    data_worker.py direct   CSV_DIR WORK_DIR   # the same work with Beam, tfx-bsl and TFDV

``CSV_DIR`` holds exactly one CSV file (CsvExampleGen reads every file of its input_base).
Each side first imports everything its work needs, then warms pyarrow's compute functions (the
first call into them costs seconds once per process), and only then starts the clock: ``work``
is the wall time of the data work alone. ``imports`` and ``warm_up`` are reported too.

``pipeline``: ``LocalDagRunner`` (in-process) runs CsvExampleGen -> StatisticsGen on a fresh
pipeline root and metadata store. ``direct``: what the two executors do, written as TFX's own
executors write it: ``ReadFromText`` -> tfx-bsl ``CSVToRecordBatch`` (column types inferred over
every row) -> ``RecordBatchToExamplesEncoder`` -> a 2:1 train/eval split by sha256 of the
serialized example -> gzipped TFRecords per split; then a second Beam pipeline reads each split
with ``TFExampleRecord`` and runs ``tfdv.GenerateStatistics`` writing ``FeatureStats.pb``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from typing import Any

SPLITS = (("train", 2), ("eval", 1))  # the default output_config of a one-split ExampleGen


def _warm_pyarrow() -> None:
    """The first pyarrow compute call in a process pays a one-off cost (function registry,
    kernels); both sides pay it here, outside the clock."""
    import pyarrow as pa
    import pyarrow.compute as pc

    strings = pa.array(["1", "2.5", "", "x"])
    pc.unique(pc.filter(strings, pc.not_equal(strings, "")))
    pc.match_substring_regex(strings, r"^\d+$")
    pc.cast(pa.array(["1", "2"]), pa.int64())
    pc.sum(pa.array([1.0, 2.0]))


def _stats_examples(path: str) -> int:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    stats = statistics_pb2.DatasetFeatureStatisticsList()
    with open(path, "rb") as f:
        stats.ParseFromString(f.read())
    return sum(d.num_examples for d in stats.datasets)


def run_pipeline(csv_dir: str, work: str) -> dict[str, Any]:
    start = time.perf_counter()
    import headrace_examplegen.executor  # noqa: F401 - imported when the node runs otherwise
    import headrace_statisticsgen.executor  # noqa: F401
    from headrace_examplegen import CsvExampleGen
    from headrace_statisticsgen import StatisticsGen

    from headrace_core import Pipeline
    from headrace_core.orchestration.local import LocalDagRunner
    from headrace_core.plugins.manager import get_plugin_manager

    get_plugin_manager()
    imported = time.perf_counter()
    _warm_pyarrow()
    warmed = time.perf_counter()

    gen = CsvExampleGen(input_base=csv_dir)
    stats = StatisticsGen(examples=gen.outputs["examples"])
    pipeline = Pipeline("bench_data", os.path.join(work, "root"), [gen, stats])
    result = LocalDagRunner(max_parallel=1).run(pipeline)
    done = time.perf_counter()
    if not result.succeeded:
        raise RuntimeError(f"the pipeline failed: {result.to_json()}")
    found = {
        split: sorted(
            glob.glob(
                os.path.join(work, "root", "**", f"Split-{split}", "FeatureStats.pb"),
                recursive=True,
            )
        )
        for split, _ in SPLITS
    }
    counts = {split: _stats_examples(paths[-1]) for split, paths in found.items()}
    return {
        "imports": imported - start,
        "warm_up": warmed - imported,
        "work": done - warmed,
        "examples": counts,
    }


def run_direct(csv_dir: str, work: str) -> dict[str, Any]:
    start = time.perf_counter()
    import csv
    import hashlib

    import apache_beam as beam
    import tensorflow_data_validation as tfdv
    from tfx_bsl.coders import csv_decoder, example_coder
    from tfx_bsl.public import tfxio

    imported = time.perf_counter()
    _warm_pyarrow()
    warmed = time.perf_counter()

    (path,) = sorted(glob.glob(os.path.join(csv_dir, "*")))
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    names = [name for name, _ in SPLITS]
    bounds = []
    total = 0
    for _, buckets in SPLITS:
        total += buckets
        bounds.append(total)

    def partition(record: bytes, _count: int) -> int:
        bucket = int(hashlib.sha256(record).hexdigest(), 16) % total
        return next(i for i, bound in enumerate(bounds) if bucket < bound)

    class Encode(beam.DoFn):
        def setup(self) -> None:
            self._encoder = example_coder.RecordBatchToExamplesEncoder()

        def process(self, batch: Any) -> Any:
            yield from self._encoder.encode(batch)

    examples_dir = os.path.join(work, "examples")
    with beam.Pipeline() as p:
        records = (
            p
            | "ReadCsv" >> beam.io.ReadFromText(path, skip_header_lines=1)
            | "ToRecordBatch"
            >> csv_decoder.CSVToRecordBatch(column_names=header, desired_batch_size=None)
            | "ToExamples" >> beam.ParDo(Encode())
        )
        parts = records | "Split" >> beam.Partition(partition, len(names))
        for name, part in zip(names, parts, strict=True):
            _ = part | f"Write[{name}]" >> beam.io.WriteToTFRecord(
                os.path.join(examples_dir, f"Split-{name}", "data_tfrecord"),
                file_name_suffix=".gz",
            )
    stats_dir = os.path.join(work, "statistics")
    outputs = {name: os.path.join(stats_dir, f"Split-{name}", "FeatureStats.pb") for name in names}
    with beam.Pipeline() as p:
        for name in names:
            files = os.path.join(examples_dir, f"Split-{name}", "data_tfrecord-*.gz")
            _ = (
                p
                | f"Read[{name}]" >> tfxio.TFExampleRecord(file_pattern=files).BeamSource()
                | f"Stats[{name}]" >> tfdv.GenerateStatistics(tfdv.StatsOptions())
                | f"WriteStats[{name}]" >> tfdv.WriteStatisticsToBinaryFile(outputs[name])
            )
    done = time.perf_counter()
    return {
        "imports": imported - start,
        "warm_up": warmed - imported,
        "work": done - warmed,
        "examples": {name: _stats_examples(outputs[name]) for name in names},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("side", choices=["pipeline", "direct"])
    parser.add_argument("csv_dir")
    parser.add_argument("work")
    args = parser.parse_args()
    run = run_pipeline if args.side == "pipeline" else run_direct
    print(json.dumps(run(args.csv_dir, args.work)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
