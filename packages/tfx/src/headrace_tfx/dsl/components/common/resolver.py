"""``tfx.dsl.components.common.resolver``."""

from __future__ import annotations

from headrace_core import Resolver

__all__ = ["Resolver"]
