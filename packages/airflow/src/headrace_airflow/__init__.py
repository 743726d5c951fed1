"""headrace on Apache Airflow.

``headrace compile PIPELINE_FILE --target airflow -o DAG_FILE`` writes a self-contained DAG
file (Airflow and the standard library only) whose tasks run each node in the pipeline's own
Python environment; ``headrace run PIPELINE_FILE --orchestrator airflow`` runs one DAG run with
``airflow dags test`` in a separate Airflow environment. This package never imports Airflow.
"""

from __future__ import annotations

from headrace_airflow.__about__ import __version__
from headrace_airflow.compiler import OPTIONS, Option, compile_dag, parse_options, run_id_prefix
from headrace_airflow.runner import AIRFLOW_PYTHON_ENV, AirflowRunner

__all__ = [
    "AIRFLOW_PYTHON_ENV",
    "OPTIONS",
    "AirflowRunner",
    "Option",
    "__version__",
    "compile_dag",
    "parse_options",
    "run_id_prefix",
]
