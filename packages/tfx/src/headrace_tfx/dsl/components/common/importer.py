"""``tfx.dsl.components.common.importer``."""

from __future__ import annotations

from headrace_core import Importer

__all__ = ["Importer"]
