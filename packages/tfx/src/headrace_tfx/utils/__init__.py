"""``tfx.utils``: the helpers TFX's examples use."""

from __future__ import annotations

from headrace_tfx.utils import proto_utils

__all__ = ["proto_utils"]
