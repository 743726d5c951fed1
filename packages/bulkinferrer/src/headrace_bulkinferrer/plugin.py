"""The plugin module headrace loads (entry point ``bulkinferrer`` in group ``headrace``)."""

from __future__ import annotations

from headrace_bulkinferrer.component import BulkInferrer
from headrace_core.plugins import ComponentRegistry, hookimpl


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(BulkInferrer)
