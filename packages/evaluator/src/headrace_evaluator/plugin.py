"""The plugin module headrace loads (entry point ``evaluator`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, ViewerRegistry, hookimpl
from headrace_evaluator.component import Evaluator


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(Evaluator)


@hookimpl
def headrace_register_viewers(registry: ViewerRegistry) -> None:
    # run_summary: `headrace run` ends with the metrics and the verdict.
    registry.add(
        "ModelEvaluation",
        viewer="headrace_evaluator.viewer:summarize_evaluation",
        run_summary=True,
    )
    registry.add(
        "ModelBlessing", viewer="headrace_evaluator.viewer:summarize_blessing", run_summary=True
    )
