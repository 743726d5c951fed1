"""``tfx.components``: the same components as ``tfx.v1.components``."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports
from headrace_tfx.v1.components import MISSING, NAMES, __all__  # noqa: F401 - re-exported

_getattr, __dir__ = exports("tfx.components", NAMES, MISSING)


def __getattr__(name: str) -> Any:
    return _getattr(name)
