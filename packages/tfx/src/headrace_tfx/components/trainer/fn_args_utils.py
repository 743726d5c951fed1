"""``tfx.components.trainer.fn_args_utils``: what ``run_fn(fn_args)`` receives."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports

NAMES = {
    "FnArgs": ("headrace_trainer:FnArgs", "headrace-trainer"),
    "DataAccessor": ("headrace_trainer:DataAccessor", "headrace-trainer"),
}

__all__ = [
    "DataAccessor",
    "FnArgs",
]

_getattr, __dir__ = exports("tfx.components.trainer.fn_args_utils", NAMES)


def __getattr__(name: str) -> Any:
    return _getattr(name)
