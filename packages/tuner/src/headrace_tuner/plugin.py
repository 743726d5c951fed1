"""The plugin module headrace loads (entry point ``tuner`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, hookimpl
from headrace_tuner.component import Tuner


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(Tuner)
