"""headrace-core's own plugin: the standard artifact types and the local runner, registered like
any third party's."""

from __future__ import annotations

from headrace_core.artifacts import STANDARD_ARTIFACT_TYPES
from headrace_core.plugins.registry import ArtifactTypeRegistry, OrchestratorRegistry
from headrace_core.plugins.spec import hookimpl


@hookimpl
def headrace_register_artifact_types(registry: ArtifactTypeRegistry) -> None:
    for artifact_type in STANDARD_ARTIFACT_TYPES:
        registry.add(artifact_type)


@hookimpl
def headrace_register_orchestrators(registry: OrchestratorRegistry) -> None:
    registry.add(
        "local",
        runner="headrace_core.orchestration.local:LocalDagRunner",
        description="this machine: threads or one subprocess per node (the default)",
    )
