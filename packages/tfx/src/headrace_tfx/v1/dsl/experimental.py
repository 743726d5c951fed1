"""``tfx.v1.dsl.experimental``: the resolver strategies."""

from __future__ import annotations

from headrace_core import LatestArtifactStrategy, LatestBlessedModelStrategy, SpanRangeStrategy

__all__ = ["LatestArtifactStrategy", "LatestBlessedModelStrategy", "SpanRangeStrategy"]
