"""``tfx.utils``: the helpers TFX's examples use."""

from __future__ import annotations

from headrace_tfx.utils import io_utils, proto_utils

__all__ = ["io_utils", "proto_utils"]
