"""The plugin module headrace loads (entry point ``statisticsgen`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, ViewerRegistry, hookimpl
from headrace_statisticsgen.component import StatisticsGen

__all__ = ["headrace_register_components", "headrace_register_viewers"]


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(StatisticsGen)


@hookimpl
def headrace_register_viewers(registry: ViewerRegistry) -> None:
    registry.add("ExampleStatistics", viewer="headrace_statisticsgen.viewer:summarize")
