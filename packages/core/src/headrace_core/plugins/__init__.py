"""The plugin system: hook contract, typed registries and the manager that loads plugins."""

from __future__ import annotations

from headrace_core.plugins.manager import (
    ENV_ALLOW,
    ENV_DISABLE_AUTOLOAD,
    ENV_TRACE,
    PluginInfo,
    PluginManager,
    get_plugin_manager,
    reset_plugin_manager,
)
from headrace_core.plugins.registry import (
    ArtifactTypeRegistry,
    CommandRegistry,
    CommandSpec,
    ComponentRegistry,
    Entry,
    OrchestratorRegistry,
    OrchestratorSpec,
    Provenance,
    ViewerRegistry,
    ViewerSpec,
)
from headrace_core.plugins.spec import hookimpl, hookspec

__all__ = [
    "ENV_ALLOW",
    "ENV_DISABLE_AUTOLOAD",
    "ENV_TRACE",
    "ArtifactTypeRegistry",
    "CommandRegistry",
    "CommandSpec",
    "ComponentRegistry",
    "Entry",
    "OrchestratorRegistry",
    "OrchestratorSpec",
    "PluginInfo",
    "PluginManager",
    "Provenance",
    "ViewerRegistry",
    "ViewerSpec",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "reset_plugin_manager",
]
