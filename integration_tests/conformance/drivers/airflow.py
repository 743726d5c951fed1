"""Apache Airflow: ``headrace run --orchestrator airflow`` compiles the pipeline into a DAG file
(``headrace compile --target airflow``) and runs one DAG run of it with ``airflow dags test``.

Airflow lives in an environment of its own (Airflow 3's task SDK and ml-metadata 1.16 cannot
share one): ``HEADRACE_AIRFLOW_PYTHON`` names its interpreter, e.g. an environment made from
``packages/airflow/tests/airflow2-requirements.txt``. The DAG's tasks run each node with this
interpreter, which holds the pipeline's packages. One Airflow home (SQLite, migrated once) is
shared by every run of this process.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from conformance.drivers._cli import headrace_run
from conformance.outcome import Outcome

ENV_AIRFLOW_PYTHON = "HEADRACE_AIRFLOW_PYTHON"

_home: Path | None = None


def _airflow_python() -> str:
    python = os.environ.get(ENV_AIRFLOW_PYTHON, "").strip()
    if not python:
        pytest.skip(
            f"airflow: {ENV_AIRFLOW_PYTHON} is not set; make an Airflow environment (uv pip "
            "install -r packages/airflow/tests/airflow2-requirements.txt) and set it to its python"
        )
    if not os.path.isfile(python):
        pytest.skip(f"airflow: {ENV_AIRFLOW_PYTHON}={python} does not exist")
    if importlib.util.find_spec("headrace_airflow") is None:
        pytest.skip(
            "airflow: headrace-airflow is not installed (uv pip install -e packages/airflow)"
        )
    return python


def _airflow_home() -> Path:
    # ``airflow db migrate`` takes 15-20 s: once per process, not once per run.
    global _home
    if _home is None or not _home.exists():
        _home = Path(tempfile.mkdtemp(prefix="headrace-conformance-airflow-"))
        atexit.register(shutil.rmtree, _home, True)
    return _home


def run_pipeline(pipeline_file: Path, root: Path, workdir: Path) -> Outcome:
    python = _airflow_python()
    home = _airflow_home()
    outcome = headrace_run(
        pipeline_file,
        root,
        workdir,
        "--orchestrator",
        "airflow",
        f"--orchestrator-arg=airflow_python={python}",
        f"--orchestrator-arg=airflow_home={home}",
    )
    airflow_log = home / "logs" / "headrace" / f"{outcome.run_id}.log"
    if airflow_log.exists():
        outcome.log += f"\n--- airflow dags test ({airflow_log}) ---\n{airflow_log.read_text()}"
    return outcome
