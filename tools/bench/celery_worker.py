"""One measurement of the ``celery`` bench group: the penguin pipeline through Airflow's
CeleryExecutor on two workers beside the same pipeline on the local runner, one after the
other on this machine, each on a fresh MariaDB database and a fresh root.

The deployment is the one ``integration_tests/distributed/test_celery.py`` runs
(``_celery.CeleryAirflow``: Redis, Airflow's database on MariaDB, a scheduler, two workers);
its start-up is reported apart from the DAG run, which is timed from trigger to success.
Prints one JSON line: ``local_s``, ``celery_s``, ``startup_s`` and the nodes each worker ran.

    python tools/bench/celery_worker.py   # with HEADRACE_TEST_MYSQL, HEADRACE_AIRFLOW_CELERY_PYTHON
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "integration_tests" / "distributed"))

from _celery import CeleryAirflow, celery_unavailable  # noqa: E402

from headrace_core.testing import new_mysql_database_url  # noqa: E402

PIPELINE = ROOT / "examples" / "penguin" / "pipeline.py"
DAG_ID = "penguin_bench"
WORKERS = ("bench-a", "bench-b")
PENGUIN_ENV = {"PENGUIN_TRAIN_STEPS": "100"}


def _headrace(*args: str, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"headrace {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def main() -> int:
    reason = celery_unavailable()
    if reason is not None:
        raise SystemExit(reason)
    base = Path(tempfile.mkdtemp(prefix="headrace-bench-celery-"))
    local_root = base / "local"
    began = time.monotonic()
    _headrace(
        "run",
        str(PIPELINE),
        "--pipeline-root",
        str(local_root),
        "--metadata",
        new_mysql_database_url("bench_local"),
        env={**PENGUIN_ENV, "PENGUIN_ROOT": str(local_root)},
    )
    local_s = time.monotonic() - began

    shared_root, dags = base / "shared" / "root", base / "shared" / "dags"
    dags.mkdir(parents=True)
    options = {"dag_id": DAG_ID, "python": sys.executable, "retries": 0}
    options["metadata"] = new_mysql_database_url("bench_celery")
    compile_args = ["compile", str(PIPELINE), "--target", "airflow"]
    compile_args += ["-o", str(dags / "penguin_bench.py")]
    compile_args += [part for k, v in options.items() for part in ("--option", f"{k}={v}")]
    _headrace(*compile_args, env={**PENGUIN_ENV, "PENGUIN_ROOT": str(shared_root)})
    airflow = CeleryAirflow(
        python=os.environ["HEADRACE_AIRFLOW_CELERY_PYTHON"].strip(),
        base=base / "deployment",
        server=os.environ["HEADRACE_TEST_MYSQL"].strip(),
        dags_folder=dags,
    )
    try:
        started = time.monotonic()
        airflow.start(WORKERS)
        airflow.wait_for_dag(DAG_ID)
        startup_s = time.monotonic() - started
        run_id = "bench"
        began = time.monotonic()
        airflow.trigger(DAG_ID, run_id, {"headrace_run_id": run_id})
        state = airflow.wait_for_dag_run(DAG_ID, run_id, timeout=1200)
        celery_s = time.monotonic() - began
        if state != "success":
            raise RuntimeError(airflow.describe(DAG_ID, run_id))
        tries = airflow.task_tries(DAG_ID, run_id)
    finally:
        airflow.stop()
    per_worker = Counter(
        str(t["hostname"])
        for t in tries
        if t["state"] == "success" and t["task_id"] != "headrace_finish_run"
    )
    print(
        json.dumps(
            {
                "local_s": local_s,
                "celery_s": celery_s,
                "startup_s": startup_s,
                "per_worker": dict(sorted(per_worker.items())),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
