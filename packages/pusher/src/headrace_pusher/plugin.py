"""The plugin module headrace loads (entry point ``pusher`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, ViewerRegistry, hookimpl
from headrace_pusher.component import Pusher


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(Pusher)


@hookimpl
def headrace_register_viewers(registry: ViewerRegistry) -> None:
    # run_summary: `headrace run` ends by saying where the model went.
    registry.add("PushedModel", viewer="headrace_pusher.viewer:summarize", run_summary=True)
