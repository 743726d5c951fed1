"""The plugin module headrace loads (entry point ``examplevalidator`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, ViewerRegistry, hookimpl
from headrace_examplevalidator.component import ExampleValidator


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(ExampleValidator)


@hookimpl
def headrace_register_viewers(registry: ViewerRegistry) -> None:
    registry.add("ExampleAnomalies", viewer="headrace_examplevalidator.viewer:summarize")
