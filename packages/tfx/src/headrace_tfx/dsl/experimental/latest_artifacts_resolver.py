"""``tfx.dsl.experimental.latest_artifacts_resolver``: TFX's older name of the
latest-artifact strategy."""

from __future__ import annotations

from headrace_core import LatestArtifactStrategy

__all__ = ["LatestArtifactsResolver"]

LatestArtifactsResolver = LatestArtifactStrategy
