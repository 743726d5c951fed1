"""The plugin module headrace loads (entry point ``trainer`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, hookimpl
from headrace_trainer.component import Trainer


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(Trainer)
