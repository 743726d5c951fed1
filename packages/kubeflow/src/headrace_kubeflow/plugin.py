"""The plugin module headrace loads (entry point ``kubeflow`` in group ``headrace``).

It imports nothing from kfp: listing plugins stays fast, and kfp loads only when a pipeline is
compiled or run."""

from __future__ import annotations

from headrace_core.plugins import OrchestratorRegistry, hookimpl


@hookimpl
def headrace_register_orchestrators(registry: OrchestratorRegistry) -> None:
    registry.add(
        "kubeflow",
        runner="headrace_kubeflow.runner:KubeflowRunner",
        compiler="headrace_kubeflow.compiler:compile_pipeline",
        description="Kubeflow Pipelines v2: compile to a pipeline spec for a cluster; "
        "run it here through kfp.local",
    )
