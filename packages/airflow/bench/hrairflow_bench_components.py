"""No-op function components for the overhead benchmark: each writes one byte, so the time a
run takes is the orchestrator's and the launcher's, not the work's."""

from __future__ import annotations

import os

from headrace_core import Examples, InputArtifact, OutputArtifact, Pipeline, component


@component
def Start(out: OutputArtifact[Examples]) -> None:  # noqa: N802 - a component class name
    with open(os.path.join(out.uri, "x"), "w") as f:
        f.write("x")


@component
def Step(inp: InputArtifact[Examples], out: OutputArtifact[Examples]) -> None:  # noqa: N802
    with open(os.path.join(out.uri, "x"), "w") as f:
        f.write("x")


def chain(root: str, nodes: int) -> Pipeline:
    """``Start`` then ``nodes - 1`` steps, each consuming the previous one's output."""
    components = [Start()]
    for i in range(1, nodes):
        components.append(Step(inp=components[-1].outputs["out"]).with_id(f"Step{i:02d}"))
    return Pipeline(pipeline_name="airflow-overhead", pipeline_root=root, components=components)
