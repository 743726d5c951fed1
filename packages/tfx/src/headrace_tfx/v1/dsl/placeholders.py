"""``tfx.v1.dsl.placeholders``: TFX's placeholders for the command lines of container
components, which headrace does not have."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports

_WHY = (
    "headrace has no container components, whose command lines these placeholders fill; "
    "write a function component (tfx.dsl.components.component) that starts the program, or "
    "pass an upstream artifact's value as a parameter with .future()[0].value"
)
NAMES: dict[str, tuple[str, str]] = {}
MISSING = dict.fromkeys(("exec_property", "execution_invocation", "input", "output"), _WHY)

__all__: list[str] = []

_getattr, __dir__ = exports("tfx.v1.dsl.placeholders", NAMES, MISSING)


def __getattr__(name: str) -> Any:
    return _getattr(name)
