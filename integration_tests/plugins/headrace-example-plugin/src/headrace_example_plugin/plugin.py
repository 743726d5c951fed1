"""The plugin module headrace loads (entry point ``example`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ArtifactTypeRegistry, ComponentRegistry, hookimpl
from headrace_example_plugin.artifacts import Embeddings
from headrace_example_plugin.component import EmbeddingGen


@hookimpl
def headrace_register_artifact_types(registry: ArtifactTypeRegistry) -> None:
    registry.add(Embeddings)


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(EmbeddingGen)
