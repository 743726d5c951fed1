"""``tfx.components.trainer.rewriting.tflite_rewriter``: a SavedModel converted into
``<path>/tflite`` by TensorFlow's TFLite converter."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports

NAMES = {
    "TFLiteRewriter": ("headrace_trainer.rewriting:TFLiteRewriter", "headrace-trainer"),
    "EXTRA_ASSETS_DIRECTORY": (
        "headrace_trainer.rewriting:EXTRA_ASSETS_DIRECTORY",
        "headrace-trainer",
    ),
}

__all__ = [
    "EXTRA_ASSETS_DIRECTORY",
    "TFLiteRewriter",
]

_getattr, __dir__ = exports("tfx.components.trainer.rewriting.tflite_rewriter", NAMES)


def __getattr__(name: str) -> Any:
    return _getattr(name)
