"""Errors the Evaluator raises on purpose, each naming the artifact, file or field at fault."""

from __future__ import annotations

from headrace_core import HeadraceError

__all__ = ["EvaluatorError"]


class EvaluatorError(HeadraceError, ValueError):
    """The Evaluator's inputs cannot be evaluated: a missing split, model, schema or config."""
