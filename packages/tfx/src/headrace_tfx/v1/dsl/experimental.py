"""``tfx.v1.dsl.experimental``: the resolver strategies (and what headrace lacks of the rest)."""

from __future__ import annotations

from typing import Any

from headrace_core import LatestArtifactStrategy, LatestBlessedModelStrategy, SpanRangeStrategy
from headrace_core.dsl import ResolverStrategy
from headrace_tfx._names import exports

__all__ = [
    "LatestArtifactStrategy",
    "LatestBlessedModelStrategy",
    "ResolverStrategy",
    "SpanRangeStrategy",
]

MISSING = {
    "RuntimeParameter": (
        "headrace has no run-time parameters (values given when a Kubeflow run starts); "
        "compute the value in an upstream component and pass .future()[0].value, or set it "
        "in the pipeline file (a path under the root: headrace_core.PIPELINE_ROOT)"
    ),
    "create_container_component": (
        "headrace has no container components; write a function component "
        "(tfx.dsl.components.component) that starts the container or program"
    ),
}

_getattr, __dir__ = exports("tfx.v1.dsl.experimental", {}, MISSING)


def __getattr__(name: str) -> Any:
    return _getattr(name)
