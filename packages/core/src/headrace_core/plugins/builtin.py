"""headrace-core's own plugin: the standard artifact types, registered like any third party's."""

from __future__ import annotations

from headrace_core.artifacts import STANDARD_ARTIFACT_TYPES
from headrace_core.plugins.registry import ArtifactTypeRegistry
from headrace_core.plugins.spec import hookimpl


@hookimpl
def headrace_register_artifact_types(registry: ArtifactTypeRegistry) -> None:
    for artifact_type in STANDARD_ARTIFACT_TYPES:
        registry.add(artifact_type)
