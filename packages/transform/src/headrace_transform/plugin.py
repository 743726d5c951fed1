"""The plugin module headrace loads (entry point ``transform`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, hookimpl
from headrace_transform.component import Transform

__all__ = ["headrace_register_components"]


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(Transform)
