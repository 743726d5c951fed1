"""The plugin module headrace loads (entry point ``airflow`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import OrchestratorRegistry, hookimpl


@hookimpl
def headrace_register_orchestrators(registry: OrchestratorRegistry) -> None:
    registry.add(
        "airflow",
        runner="headrace_airflow.runner:AirflowRunner",
        compiler="headrace_airflow.compiler:compile_dag",
        description=(
            "Apache Airflow 2.11/3.x: compile a DAG file (one task per node), or run one DAG "
            "run with `airflow dags test`"
        ),
    )
