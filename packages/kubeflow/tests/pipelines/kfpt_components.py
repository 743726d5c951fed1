"""Function components of the test pipelines. The launcher imports this module by the path
the IR records, as it does a user's own modules."""

from __future__ import annotations

import json
import os

from headrace_core import Examples, InputArtifact, OutputArtifact, Parameter, component


@component
def Produce(examples: OutputArtifact[Examples], rows: Parameter[int] = 3) -> None:
    os.makedirs(examples.uri, exist_ok=True)
    with open(os.path.join(examples.uri, "rows.json"), "w") as f:
        json.dump(list(range(rows)), f)


@component
def Explode(examples: InputArtifact[Examples], copy: OutputArtifact[Examples]) -> None:
    raise ValueError("conformance: this node fails on purpose")


@component
def Consume(examples: InputArtifact[Examples]) -> int:
    with open(os.path.join(examples.uri, "rows.json")) as f:
        return len(json.load(f))
