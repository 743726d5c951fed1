"""``from headrace_tfx import v1 as tfx``: TFX's public API (``tfx.v1``) over headrace.

Components come from headrace's component packages (only those installed are needed);
``tfx.proto`` messages are real protobuf messages; ``tfx.orchestration.LocalDagRunner`` runs
on headrace's local runner. Names headrace does not have raise an error that says so.
"""

from __future__ import annotations

from headrace_tfx.__about__ import __version__
from headrace_tfx.v1 import (
    components,
    dsl,
    extensions,
    orchestration,
    proto,
    testing,
    types,
    utils,
)

__all__ = [
    "__version__",
    "components",
    "dsl",
    "extensions",
    "orchestration",
    "proto",
    "testing",
    "types",
    "utils",
]
