"""``tfx.components.trainer.rewriting.rewriter_factory``: rewriters by name, as in
``create_rewriter(TFLITE_REWRITER, name="tflite_rewriter")``."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports

NAMES = {
    "TFLITE_REWRITER": ("headrace_trainer.rewriting:TFLITE_REWRITER", "headrace-trainer"),
    "TFJS_REWRITER": ("headrace_trainer.rewriting:TFJS_REWRITER", "headrace-trainer"),
    "create_rewriter": ("headrace_trainer.rewriting:create_rewriter", "headrace-trainer"),
}

__all__ = [
    "TFJS_REWRITER",
    "TFLITE_REWRITER",
    "create_rewriter",
]

_getattr, __dir__ = exports("tfx.components.trainer.rewriting.rewriter_factory", NAMES)


def __getattr__(name: str) -> Any:
    return _getattr(name)
