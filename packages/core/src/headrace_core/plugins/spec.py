"""The hook contract every headrace plugin implements (entry-point group ``headrace``).

A plugin is a module or object with functions decorated by :data:`hookimpl`. Each hook
receives a typed registry; an implementation may accept a subset of the arguments, so new
arguments can be added later without breaking plugins. Types are imported only for type
checking: loading the contract costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from headrace_core.plugins.registry import (
        ArtifactTypeRegistry,
        CommandRegistry,
        ComponentRegistry,
        OrchestratorRegistry,
        ViewerRegistry,
    )

__all__ = [
    "PROJECT_NAME",
    "headrace_register_artifact_types",
    "headrace_register_commands",
    "headrace_register_components",
    "headrace_register_orchestrators",
    "headrace_register_viewers",
    "hookimpl",
    "hookspec",
]

PROJECT_NAME = "headrace"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def headrace_register_artifact_types(registry: ArtifactTypeRegistry) -> None:
    """Register artifact types: ``registry.add(MyArtifact)``."""


@hookspec
def headrace_register_components(registry: ComponentRegistry) -> None:
    """Register component classes: ``registry.add(MyComponent)``."""


@hookspec
def headrace_register_orchestrators(registry: OrchestratorRegistry) -> None:
    """Register orchestrators: ``registry.add("beam", runner="pkg.module:BeamDagRunner")``."""


@hookspec
def headrace_register_viewers(registry: ViewerRegistry) -> None:
    """Register how ``headrace show`` summarizes an artifact type:
    ``registry.add("ExampleStatistics", viewer="pkg.viewer:summarize")``."""


@hookspec
def headrace_register_commands(registry: CommandRegistry) -> None:
    """Register ``headrace`` subcommands: ``registry.add("ui", run="pkg.cli:run",
    arguments="pkg.cli:add_arguments", description="...")``. Both are ``"module:function"``
    strings, imported only when the command line names the command (or lists commands), so
    the core knows nothing of what a plugin's command needs."""
