"""TFX names resolved to headrace objects when first used, so that importing ``tfx.v1`` stays
light and needs only the component packages a pipeline uses.

Each module of the ``v1`` tree declares ``NAMES`` (TFX's name -> ``"module:attribute"`` and the
distribution that provides it) and ``MISSING`` (TFX names headrace does not have, with what to
do instead), and gets its ``__getattr__`` and ``__dir__`` from :func:`exports`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MissingTfxNameError", "exports"]


class MissingTfxNameError(AttributeError):
    """A TFX name headrace does not provide (yet); the message says what to use instead."""


def exports(
    module: str,
    names: Mapping[str, tuple[str, str]],
    missing: Mapping[str, str] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the ``v1`` module ``module`` (TFX's dotted name)."""
    missing = dict(missing or {})

    def getattr_(name: str) -> Any:
        if name in names:
            ref, distribution = names[name]
            target, _, attribute = ref.partition(":")
            try:
                found = importlib.import_module(target)
            except ImportError as e:
                if e.name is None or not target.startswith(e.name):
                    raise
                raise MissingTfxNameError(
                    f"{module}.{name} is headrace's {attribute}, from {distribution}, which is "
                    f"not installed: pip install {distribution}"
                ) from None
            return getattr(found, attribute)
        if name in missing:
            raise MissingTfxNameError(f"{module}.{name}: {missing[name]}")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted(names)

    return getattr_, dir_
