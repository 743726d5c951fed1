"""``tfx.orchestration``: TFX's orchestration package (``metadata``, ``pipeline``, runners)."""

from __future__ import annotations

from headrace_tfx.v1.orchestration import LocalDagRunner, metadata

__all__ = ["LocalDagRunner", "metadata"]
