"""Names of headrace's records in MLMD, and the error every store call raises."""

from __future__ import annotations

from headrace_core.errors import HeadraceError

__all__ = [
    "CACHE_CONTEXT",
    "EVENT_INPUT",
    "EVENT_INTERNAL_OUTPUT",
    "EVENT_OUTPUT",
    "MetadataError",
    "NODE_CONTEXT",
    "PIPELINE_CONTEXT",
    "RUN_CONTEXT",
    "node_context_name",
    "run_context_name",
]

# MLMD Event.Type values, named here so readers of the store need not import ml_metadata.
EVENT_INPUT = 3
EVENT_OUTPUT = 4
EVENT_INTERNAL_OUTPUT = 6

PIPELINE_CONTEXT = "headrace.pipeline"
RUN_CONTEXT = "headrace.pipeline_run"
NODE_CONTEXT = "headrace.node"
CACHE_CONTEXT = "headrace.cache"


class MetadataError(HeadraceError):
    """The metadata store cannot be reached or refused an operation."""


def node_context_name(pipeline: str, node_id: str) -> str:
    # ':' appears in neither pipeline names nor node ids, so names never collide.
    return f"{pipeline}:{node_id}"


def run_context_name(pipeline: str, run_id: str) -> str:
    return f"{pipeline}:{run_id}"
