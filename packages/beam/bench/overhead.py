"""Per-node overhead of running a pipeline as one Beam pipeline, against headrace's local
runner, on a chain of no-op function components (10 by default).

    python packages/beam/bench/overhead.py [--nodes 10]

Each way gets a fresh pipeline root: a first run (every node executes), then a rerun (every
node cached), both in this process. The Beam ways are the DirectRunner and a PortableRunner with
an embedded job server and a LOOPBACK worker, each with every node in its own
``python -m headrace_core.launch`` (the default) and with nodes in the Beam worker. Beam's own
import is paid once, before the first Beam way, and reported apart. Prints one JSON object at
the end.
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
PORTABLE = [
    "--runner=PortableRunner",
    "--job_endpoint=embed",
    "--environment_type=LOOPBACK",
    "--experiments=disable_logging_submission_environment",
]


def _measure(runner: Any, document: dict[str, Any], nodes: int) -> dict[str, float]:
    started = time.perf_counter()
    result = runner.run(document)
    seconds = time.perf_counter() - started
    if not result.succeeded:
        raise SystemExit(f"benchmark run failed: {json.dumps(result.to_json(), default=str)}")
    return {"seconds": round(seconds, 3), "per_node_ms": round(1000 * seconds / nodes, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))

    from hrbeam_bench_components import chain

    from headrace_core import ir
    from headrace_core.orchestration.local import LocalDagRunner

    started = time.perf_counter()
    from headrace_beam import BeamDagRunner

    BeamDagRunner()  # imports Beam (it checks the options against Beam's parser)
    figures: dict[str, Any] = {
        "nodes": args.nodes,
        "beam_import_s": round(time.perf_counter() - started, 3),
    }
    ways: dict[str, Callable[[], Any]] = {
        "local_in_process": lambda: LocalDagRunner(max_parallel=1),
        "local_subprocess": lambda: LocalDagRunner(max_parallel=1, isolation="subprocess"),
        "beam_direct_subprocess": BeamDagRunner,
        "beam_direct_in_process": lambda: BeamDagRunner(isolation="in-process"),
        "beam_portable_subprocess": lambda: BeamDagRunner(PORTABLE),
        "beam_portable_in_process": lambda: BeamDagRunner(PORTABLE, isolation="in-process"),
    }
    with tempfile.TemporaryDirectory(prefix="headrace-beam-bench-") as scratch:
        for way, make_runner in ways.items():
            document = ir.compile(chain(os.path.join(scratch, way), args.nodes))
            runner = make_runner()
            first = _measure(runner, document, args.nodes)
            cached = _measure(runner, document, args.nodes)
            figures[way] = {"first": first, "cached": cached}
            print(
                f"{way:26} first {first['per_node_ms']:8.1f} ms/node   "
                f"cached {cached['per_node_ms']:8.1f} ms/node",
                file=sys.stderr,
            )
    figures["apache_beam"] = metadata.version("apache-beam")
    figures["headrace_beam"] = metadata.version("headrace-beam")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
