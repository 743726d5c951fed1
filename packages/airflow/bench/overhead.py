"""Per-node overhead of running a pipeline as an Airflow DAG, against headrace's local runner,
on a chain of no-op function components (10 by default).

    HEADRACE_AIRFLOW_PYTHON=/path/to/airflow-env/bin/python \
        python packages/airflow/bench/overhead.py [--nodes 10] [--airflow-python PATH]

Each way gets a fresh pipeline root: a first run (every node executes), then a rerun (every
node cached). The Airflow way is ``headrace run --orchestrator airflow``'s runner: the DAG file
is compiled and run once with ``airflow dags test`` (every task in one Airflow process, each
node in its own ``python -m headrace_core.launch``). The Airflow home is made (``airflow db
migrate``) before the runs and that time is reported apart. Prints one JSON object at the end.
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
        log = getattr(runner, "last_log", "")[-4000:]
        raise SystemExit(
            f"benchmark run failed: {json.dumps(result.to_json(), default=str)}\n{log}"
        )
    return {"seconds": round(seconds, 3), "per_node_ms": round(1000 * seconds / nodes, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument(
        "--airflow-python",
        default=os.environ.get("HEADRACE_AIRFLOW_PYTHON"),
        help="interpreter of the Airflow environment (default: $HEADRACE_AIRFLOW_PYTHON)",
    )
    args = parser.parse_args()
    if not args.airflow_python:
        raise SystemExit("give --airflow-python or set HEADRACE_AIRFLOW_PYTHON")
    sys.path.insert(0, str(HERE))

    from hrairflow_bench_components import chain

    from headrace_airflow import AirflowRunner
    from headrace_airflow.local import LocalAirflow
    from headrace_core import ir
    from headrace_core.orchestration.local import LocalDagRunner

    figures: dict[str, Any] = {"nodes": args.nodes}
    with tempfile.TemporaryDirectory(prefix="headrace-airflow-bench-") as scratch:
        home = Path(scratch) / "airflow-home"
        airflow = LocalAirflow(args.airflow_python, home)
        started = time.perf_counter()
        airflow.ensure_database()
        figures["airflow_db_migrate_s"] = round(time.perf_counter() - started, 3)
        # What every ``airflow`` command costs before it does anything: ``airflow version``.
        started = time.perf_counter()
        figures["apache_airflow"] = airflow.version()
        figures["airflow_cli_start_s"] = round(time.perf_counter() - started, 3)

        ways: dict[str, Callable[[], Any]] = {
            "local_in_process": lambda: LocalDagRunner(max_parallel=1),
            "local_subprocess": lambda: LocalDagRunner(max_parallel=1, isolation="subprocess"),
            "airflow_dags_test": lambda: AirflowRunner(
                options=[f"airflow_python={args.airflow_python}", f"airflow_home={home}"]
            ),
        }
        for way, make_runner in ways.items():
            document = ir.compile(chain(os.path.join(scratch, way), args.nodes))
            runner = make_runner()
            first = _measure(runner, document, args.nodes)
            cached = _measure(runner, document, args.nodes)
            figures[way] = {"first": first, "cached": cached}
            print(
                f"{way:20} first {first['per_node_ms']:8.1f} ms/node   "
                f"cached {cached['per_node_ms']:8.1f} ms/node",
                file=sys.stderr,
            )
    figures["headrace_airflow"] = metadata.version("headrace-airflow")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
