"""The plugin module headrace loads (entry point ``examplediff`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, ViewerRegistry, hookimpl
from headrace_examplediff.component import ExampleDiff


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(ExampleDiff)


@hookimpl
def headrace_register_viewers(registry: ViewerRegistry) -> None:
    # run_summary: `headrace run` ends with each split pair's headline.
    registry.add("ExamplesDiff", viewer="headrace_examplediff.viewer:summarize", run_summary=True)
