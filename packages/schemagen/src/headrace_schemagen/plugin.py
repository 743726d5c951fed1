"""The plugin module headrace loads (entry point ``schemagen`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, ViewerRegistry, hookimpl
from headrace_schemagen.component import ImportSchemaGen, SchemaGen

__all__ = ["headrace_register_components", "headrace_register_viewers"]


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(SchemaGen)
    registry.add(ImportSchemaGen)


@hookimpl
def headrace_register_viewers(registry: ViewerRegistry) -> None:
    registry.add("Schema", viewer="headrace_schemagen.viewer:summarize")
