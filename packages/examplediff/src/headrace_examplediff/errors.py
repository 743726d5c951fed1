"""Errors the ExampleDiff raises on purpose, each naming the input, split or field at fault."""

from __future__ import annotations

from headrace_core import HeadraceError

__all__ = ["ExampleDiffError"]


class ExampleDiffError(HeadraceError, ValueError):
    """The ExampleDiff's inputs cannot be compared: a missing split or split pair, examples
    without the identifier features, a payload it cannot read."""
