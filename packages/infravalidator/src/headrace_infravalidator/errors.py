"""Errors the InfraValidator raises on purpose (a model that fails to serve is not one: it is
NOT_BLESSED)."""

from __future__ import annotations

from headrace_core import HeadraceError

__all__ = ["InfraValidatorError"]


class InfraValidatorError(HeadraceError, ValueError):
    """The node's inputs or parameters are wrong: no model files, a missing split."""
