"""The plugin module headrace loads (entry point ``infravalidator`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, hookimpl
from headrace_infravalidator.component import InfraValidator


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(InfraValidator)
