"""``tfx.dsl.experimental``: TFX's older resolver names."""

from __future__ import annotations
