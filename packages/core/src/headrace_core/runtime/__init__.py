"""The runtime: everything between a compiled pipeline and ML Metadata.

The local runner, the orchestrator adapters, the CLI and ``python -m headrace_core.launch``
import from here and nowhere else in the runtime (a test checks). Inside, in private modules:
the MLMD session (the only builder of Execution, Event and Context protos), input resolution
and conditions, the decision function shared by launches and plans, staging and publishing,
orphan reaping, resolvers and importers, and the on-disk layout of a pipeline root.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from headrace_core.layout import PipelineLayout
from headrace_core.metadata import MetadataStore, pipeline_metadata_url
from headrace_core.runtime._close import close_run, run_succeeded
from headrace_core.runtime._decide import Decision, decide
from headrace_core.runtime._launch import apply_environment, exec_properties, launch_node
from headrace_core.runtime._logs import (
    NodeOutput,
    active_output,
    report_progress,
    user_frame_in_text,
)
from headrace_core.runtime._plan import Explanation, explain_node, plan_nodes, predict_node
from headrace_core.runtime._session import RunSession
from headrace_core.runtime._types import (
    LaunchError,
    NodeEvent,
    NodeResult,
    Prediction,
    RunResult,
    Status,
    new_run_id,
)

__all__ = [
    "Decision",
    "Explanation",
    "LaunchError",
    "NodeEvent",
    "NodeOutput",
    "NodeResult",
    "PipelineLayout",
    "Prediction",
    "RunResult",
    "RunSession",
    "Status",
    "active_output",
    "apply_environment",
    "close_run",
    "decide",
    "exec_properties",
    "explain_node",
    "launch_node",
    "open_run",
    "pipeline_metadata_url",
    "plan_nodes",
    "predict_node",
    "report_progress",
    "run_succeeded",
    "new_run_id",
    "user_frame_in_text",
]


def open_run(
    document: Mapping[str, Any],
    *,
    run_id: str | None = None,
    metadata_url: str | None = None,
    orchestrator: str = "local",
    reuse_latest: Collection[str] = (),
) -> RunSession:
    """A session for a run of ``document`` (a new run unless ``run_id`` names one), on the
    pipeline's store unless ``metadata_url`` overrides it; the pipeline root is created."""
    import os

    os.makedirs(document["pipeline"]["root"], exist_ok=True)
    store = MetadataStore(pipeline_metadata_url(document, metadata_url))
    return RunSession(
        document,
        store,
        run_id or new_run_id(),
        reuse_latest=reuse_latest,
        orchestrator=orchestrator,
    )
