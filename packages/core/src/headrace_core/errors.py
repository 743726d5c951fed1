"""Exceptions raised by headrace. Every message names the node, key, file or plugin at fault."""

from __future__ import annotations

__all__ = [
    "ComponentDefinitionError",
    "DuplicateRegistrationError",
    "HeadraceError",
    "InvalidComponentArgumentError",
    "InvalidPipelineError",
    "IRError",
    "PipelineFileError",
    "PluginLoadError",
]


class HeadraceError(Exception):
    """Base class of every error headrace raises on purpose."""


class ComponentDefinitionError(HeadraceError, TypeError):
    """A component class or function component is defined in a way headrace cannot use."""


class InvalidComponentArgumentError(HeadraceError, ValueError):
    """A component was constructed with arguments that do not match its spec."""


class InvalidPipelineError(HeadraceError, ValueError):
    """A pipeline's graph is invalid: cycle, duplicate id, missing producer, type mismatch."""


class IRError(HeadraceError, ValueError):
    """An IR document cannot be produced or read back."""


class PipelineFileError(HeadraceError):
    """A pipeline file is missing, defines no pipeline, or raises when imported."""


class DuplicateRegistrationError(HeadraceError, ValueError):
    """Two plugins registered the same name in one registry."""


class PluginLoadError(HeadraceError):
    """A plugin failed to import or to register; other plugins keep working."""

    def __init__(self, plugin: str, distribution: str, cause: BaseException, stage: str = "import"):
        self.plugin = plugin
        self.distribution = distribution
        self.cause = cause
        self.stage = stage
        super().__init__(
            f"plugin {plugin!r} from distribution {distribution!r} failed to {stage}: "
            f"{type(cause).__name__}: {cause}"
        )
