"""Errors the BulkInferrer raises on purpose, each naming the artifact, file or field at fault."""

from __future__ import annotations

from headrace_core import HeadraceError

__all__ = ["BulkInferrerError"]


class BulkInferrerError(HeadraceError, ValueError):
    """The BulkInferrer's inputs cannot be inferred on: a missing split, model or signature."""
