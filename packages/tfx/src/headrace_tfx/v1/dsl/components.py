"""``tfx.v1.dsl.components``: function components and their annotations."""

from __future__ import annotations

from headrace_core import InputArtifact, OutputArtifact, Parameter, component

__all__ = ["InputArtifact", "OutputArtifact", "Parameter", "component"]
