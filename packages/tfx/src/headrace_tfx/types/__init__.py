"""``tfx.types``: channels and the standard artifact types."""

from __future__ import annotations

from headrace_core import Artifact, Channel
from headrace_tfx.v1.types import BaseChannel, standard_artifacts

__all__ = ["Artifact", "BaseChannel", "Channel", "standard_artifacts"]
