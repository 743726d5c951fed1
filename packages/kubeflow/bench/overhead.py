"""Per-node overhead of running a pipeline through Kubeflow Pipelines' local runner, against
headrace's local runner, on a 10-node chain of no-op function components.

    python packages/kubeflow/bench/overhead.py [--nodes 10]

Each way gets a fresh pipeline root: a first run (every node executes), then a rerun (every
node cached). The local runner runs in this process (in-process, then one process per node);
Kubeflow compiles the spec and runs it through kfp.local in a child process, one task process
(kfp's executor) plus one launcher process per node, one task at a time. Prints one JSON
object at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _measure(runner: Any, document: dict[str, Any], nodes: int) -> dict[str, float]:
    started = time.perf_counter()
    result = runner.run(document)
    seconds = time.perf_counter() - started
    if not result.succeeded:
        raise SystemExit(f"benchmark run failed: {result.to_json()}")
    return {"seconds": round(seconds, 3), "per_node_ms": round(1000 * seconds / nodes, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10)
    args = parser.parse_args()
    os.environ["BENCH_NODES"] = str(args.nodes)
    sys.path.insert(0, str(HERE))

    from headrace_core import ir
    from headrace_core.orchestration.local import LocalDagRunner
    from headrace_core.pipeline_file import load_pipeline_file
    from headrace_kubeflow import KubeflowRunner

    figures: dict[str, Any] = {"nodes": args.nodes}
    with tempfile.TemporaryDirectory(prefix="headrace-kfp-bench-") as scratch:
        ways: dict[str, Callable[[], Any]] = {
            "local_in_process": lambda: LocalDagRunner(max_parallel=1),
            "local_subprocess": lambda: LocalDagRunner(max_parallel=1, isolation="subprocess"),
            "kubeflow_local": KubeflowRunner,
        }
        for way, make_runner in ways.items():
            os.environ["BENCH_ROOT"] = os.path.join(scratch, way)
            document = ir.compile(load_pipeline_file(str(HERE / "chain_pipeline.py")))
            runner = make_runner()
            first = _measure(runner, document, args.nodes)
            cached = _measure(runner, document, args.nodes)
            figures[way] = {"first": first, "cached": cached}
            print(
                f"{way:18} first {first['per_node_ms']:8.1f} ms/node   "
                f"cached {cached['per_node_ms']:8.1f} ms/node",
                file=sys.stderr,
            )
    figures["kfp"] = metadata.version("kfp")
    figures["headrace_kubeflow"] = metadata.version("headrace-kubeflow")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
