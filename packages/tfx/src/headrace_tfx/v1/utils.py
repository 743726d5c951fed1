"""``tfx.v1.utils``: TFX's public helpers."""

from __future__ import annotations

from headrace_tfx.utils.io_utils import parse_pbtxt_file

__all__ = ["parse_pbtxt_file"]
