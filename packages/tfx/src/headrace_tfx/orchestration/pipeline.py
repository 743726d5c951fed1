"""``tfx.orchestration.pipeline``."""

from __future__ import annotations

from headrace_tfx.v1.dsl import Pipeline

__all__ = ["Pipeline"]
