"""The plugin module headrace loads (entry point ``beam`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import OrchestratorRegistry, hookimpl


@hookimpl
def headrace_register_orchestrators(registry: OrchestratorRegistry) -> None:
    registry.add(
        "beam",
        runner="headrace_beam.runner:BeamDagRunner",
        description="one Apache Beam pipeline, a step per node (--beam-arg=--runner=...)",
    )
