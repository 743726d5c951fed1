"""``tfx.dsl.experimental.latest_blessed_model_resolver``: TFX's older name of the
latest-blessed-model strategy."""

from __future__ import annotations

from headrace_core import LatestBlessedModelStrategy

__all__ = ["LatestBlessedModelResolver"]

LatestBlessedModelResolver = LatestBlessedModelStrategy
