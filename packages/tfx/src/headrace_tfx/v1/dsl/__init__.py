"""``tfx.v1.dsl``: pipelines, channels, importers, resolvers and conditions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headrace_core import Artifact, BaseNode, Channel, Cond, Importer, Resolver
from headrace_core import Pipeline as _Pipeline
from headrace_tfx.v1.dsl import components, experimental, placeholders

__all__ = [
    "Artifact",
    "Channel",
    "Cond",
    "Importer",
    "Pipeline",
    "Resolver",
    "components",
    "experimental",
    "placeholders",
]


class Pipeline(_Pipeline):
    """TFX's ``Pipeline``: headrace's, with TFX's keyword order and defaults (the cache is
    off unless ``enable_cache=True``, as in TFX)."""

    def __init__(
        self,
        pipeline_name: str,
        pipeline_root: str,
        metadata_connection_config: str | None = None,
        components: Sequence[BaseNode] | None = None,
        enable_cache: bool = False,
        beam_pipeline_args: Sequence[str] | None = None,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(
                f"Pipeline: headrace does not take {', '.join(sorted(unsupported))} "
                "(see docs/migrating-from-tfx.md)"
            )
        super().__init__(
            pipeline_name=pipeline_name,
            pipeline_root=pipeline_root,
            components=list(components or []),
            enable_cache=enable_cache,
            metadata_connection_config=metadata_connection_config,
            beam_pipeline_args=beam_pipeline_args,
        )
