"""One side of the ``beam_workers`` benchmark for tools/bench/run.py, in its own process.

    beam_workers_worker.py WORKERS CSV_DIR WORK_DIR   # prints JSON

The taxi pipeline's Beam part (CsvExampleGen -> StatisticsGen -> SchemaGen -> Transform with
examples/taxi/taxi_utils.py) on ``CSV_DIR``, under LocalDagRunner in this process, with the
multi-process DirectRunner and ``WORKERS`` Beam worker processes
(``--direct_running_mode=multi_processing --direct_num_workers=WORKERS``). ``work`` is the
wall time of the run after the imports; ``nodes`` each node's.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE_FILE = ROOT / "examples" / "taxi" / "taxi_utils.py"


def main(workers: int, csv_dir: str, work: str) -> dict[str, object]:
    start = time.perf_counter()
    import headrace_examplegen.executor  # noqa: F401 - imported when the node runs otherwise
    import headrace_statisticsgen.executor  # noqa: F401
    import headrace_transform.executor  # noqa: F401
    from headrace_examplegen import CsvExampleGen
    from headrace_schemagen import SchemaGen
    from headrace_statisticsgen import StatisticsGen
    from headrace_transform import Transform

    from headrace_core import Pipeline
    from headrace_core.orchestration.local import LocalDagRunner

    imported = time.perf_counter()
    gen = CsvExampleGen(input_base=csv_dir)
    stats = StatisticsGen(examples=gen.outputs["examples"])
    schema = SchemaGen(statistics=stats.outputs["statistics"], infer_feature_shape=False)
    transform = Transform(
        examples=gen.outputs["examples"],
        schema=schema.outputs["schema"],
        module_file=str(MODULE_FILE),
    )
    args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    pipeline = Pipeline(
        "bench_beam_workers",
        os.path.join(work, "root"),
        [gen, stats, schema, transform],
        beam_pipeline_args=args,
    )
    result = LocalDagRunner(max_parallel=1).run(pipeline)
    done = time.perf_counter()
    if not result.succeeded:
        raise RuntimeError(f"the pipeline failed: {result.to_json()}")
    from tensorflow_metadata.proto.v0 import statistics_pb2

    examples = {}
    [statistics] = result.results["StatisticsGen"].outputs["statistics"]
    for path in sorted(Path(statistics.uri).glob("Split-*/FeatureStats.pb")):
        stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
        examples[path.parent.name] = sum(d.num_examples for d in stats.datasets)
    return {
        "imports": imported - start,
        "work": done - imported,
        "nodes": {n: r.duration for n, r in result.results.items()},
        "examples": examples,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), sys.argv[2], sys.argv[3])))
