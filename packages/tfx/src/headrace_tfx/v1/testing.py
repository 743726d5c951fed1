"""``tfx.v1.testing``: TFX's channel of fixed artifacts for unit tests, which headrace does not
have."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports

MISSING = {
    "Channel": (
        "headrace has no channel of fixed artifacts for tests; test a component's executor "
        "by calling Executor().Do(input_dict, output_dict, exec_properties) with artifacts, "
        "or run a small pipeline with an Importer (headrace_core.testing has helpers)"
    )
}

__all__: list[str] = []

_getattr, __dir__ = exports("tfx.v1.testing", {}, MISSING)


def __getattr__(name: str) -> Any:
    return _getattr(name)
