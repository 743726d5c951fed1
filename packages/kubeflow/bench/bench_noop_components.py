"""No-op function components for the overhead benchmark: each writes one byte, so the time a
run takes is the orchestrator's and the launcher's, not the work's."""

from __future__ import annotations

import os

from headrace_core import Examples, InputArtifact, OutputArtifact, component


@component
def Start(out: OutputArtifact[Examples]) -> None:
    with open(os.path.join(out.uri, "x"), "w") as f:
        f.write("x")


@component
def Step(inp: InputArtifact[Examples], out: OutputArtifact[Examples]) -> None:
    with open(os.path.join(out.uri, "x"), "w") as f:
        f.write("x")
