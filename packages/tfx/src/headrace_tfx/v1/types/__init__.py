"""``tfx.v1.types``: the node and channel base classes, and the standard artifact types."""

from __future__ import annotations

from headrace_core import BaseComponent, BaseNode
from headrace_core import Channel as BaseChannel
from headrace_tfx.v1.types import standard_artifacts

__all__ = ["BaseChannel", "BaseComponent", "BaseNode", "standard_artifacts"]
