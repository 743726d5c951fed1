"""A three-node chain whose middle node always fails: every orchestrator must record the
failure in MLMD, report the node and not run what depends on it."""

from __future__ import annotations

import os

from headrace_core import Examples, InputArtifact, OutputArtifact, Pipeline, component


@component
def Produce(examples: OutputArtifact[Examples]) -> None:
    with open(os.path.join(examples.uri, "data.txt"), "w") as f:
        f.write("conformance\n")


@component
def Break(examples: InputArtifact[Examples], model: OutputArtifact[Examples]) -> None:
    raise ValueError("conformance: this node fails on purpose")


@component
def Consume(model: InputArtifact[Examples]) -> None:
    raise AssertionError("a node downstream of a failure must not run")


def create_pipeline() -> Pipeline:
    root = os.path.abspath(os.environ.get("CONFORMANCE_ROOT", os.path.join("build", "failing")))
    produce = Produce()
    broken = Break(examples=produce.outputs["examples"])
    consume = Consume(model=broken.outputs["model"])
    return Pipeline(
        pipeline_name="failing", pipeline_root=root, components=[produce, broken, consume]
    )
