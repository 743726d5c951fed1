"""``tfx.v1.extensions``: TFX's Google Cloud components (AI Platform, BigQuery), which headrace
does not have."""

from __future__ import annotations

from typing import Any

from headrace_tfx._names import exports

_WHY = (
    "headrace has no Google Cloud extension components; run Beam components on Dataflow "
    "with beam_pipeline_args (docs/distributed.md), export BigQuery tables to files for "
    "CsvExampleGen / ParquetExampleGen, and push with the Pusher's filesystem destination"
)
MISSING = dict.fromkeys(("google_cloud_ai_platform", "google_cloud_big_query"), _WHY)

__all__: list[str] = []

_getattr, __dir__ = exports("tfx.v1.extensions", {}, MISSING)


def __getattr__(name: str) -> Any:
    return _getattr(name)
