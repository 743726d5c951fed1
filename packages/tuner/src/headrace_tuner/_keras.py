"""KerasTuner on the Keras that ``tf.keras`` is: Keras 2 (tf_keras) under headrace.

KerasTuner chooses its Keras once, when ``keras_tuner`` is first imported, from the ``keras``
package. Under TensorFlow 2.16 that package is Keras 3, while headrace binds ``tf.keras`` to
Keras 2 (``TF_USE_LEGACY_KERAS=1``: tf.Transform's and TFMA's layers need it, as in TFX
1.16). KerasTuner then refuses every ``tf.keras`` model a ``tuner_fn`` builds ("Expected the
model-building function ... to return a valid Keras Model instance").

The hook installed here fixes that choice at its source. The only KerasTuner module that
imports ``keras`` is ``keras_tuner.src.backend.config``; when it is imported in a process
that asks for Keras 2, it is shown ``tf_keras`` as ``keras``. tf_keras has no
``keras.version()``, so KerasTuner takes its single-backend path and imports
``tensorflow.keras``: the same Keras as the user's models. Nothing else sees the swap.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["install_hook", "keras_tuner_is_multi_backend", "legacy_keras_selected"]

_CONFIG = "keras_tuner.src.backend.config"


def legacy_keras_selected() -> bool:
    """Whether ``tf.keras`` will be (or is) Keras 2, by TensorFlow 2.16's own test."""
    return os.environ.get("TF_USE_LEGACY_KERAS") in ("1", "true", "True")


def keras_tuner_is_multi_backend() -> bool | None:
    """Whether the imported KerasTuner runs on Keras 3; None if it is not imported yet."""
    config = sys.modules.get(_CONFIG)
    if config is None:
        return None
    return bool(config.multi_backend())


class _ShowTfKerasAsKeras(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        import tf_keras

        missing = object()
        saved = sys.modules.get("keras", missing)
        sys.modules["keras"] = tf_keras
        try:
            self._inner.exec_module(module)
        finally:
            if saved is missing:
                sys.modules.pop("keras", None)
            else:
                sys.modules["keras"] = saved  # type: ignore[assignment]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _CONFIG or not legacy_keras_selected():
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _ShowTfKerasAsKeras(spec.loader)
        return spec


def install_hook() -> None:
    """Install the hook (once per process), ahead of the standard finders."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
