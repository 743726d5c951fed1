"""``tfx.components.trainer.rewriting.rewriter``: what a rewriter is, and the descriptions of
the models it reads and writes."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports

NAMES = {
    "BaseRewriter": ("headrace_trainer.rewriting:BaseRewriter", "headrace-trainer"),
    "ModelDescription": ("headrace_trainer.rewriting:ModelDescription", "headrace-trainer"),
    "ModelType": ("headrace_trainer.rewriting:ModelType", "headrace-trainer"),
}

__all__ = [
    "BaseRewriter",
    "ModelDescription",
    "ModelType",
]

_getattr, __dir__ = exports("tfx.components.trainer.rewriting.rewriter", NAMES)


def __getattr__(name: str) -> Any:
    return _getattr(name)
