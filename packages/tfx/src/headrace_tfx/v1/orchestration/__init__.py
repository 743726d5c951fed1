"""``tfx.v1.orchestration``: the local runner (script mode) and the metadata configs."""

from __future__ import annotations

from typing import Any

from headrace_core.orchestration.local import PipelineRunError, run_in_console
from headrace_tfx.v1.orchestration import metadata

__all__ = ["LocalDagRunner", "PipelineRunError", "metadata"]


class LocalDagRunner:
    """TFX's ``LocalDagRunner``: ``LocalDagRunner().run(pipeline)`` runs the pipeline on
    headrace's local runner, prints what ``headrace run`` prints, and raises
    :class:`PipelineRunError` naming the failed nodes, so a script exits non-zero as with TFX.

    Options are headrace's (``max_parallel``, ``isolation``, ``metadata_url``, ``verbose``);
    TFX's runner takes none that matter here.
    """

    def __init__(self, **options: Any) -> None:
        self._verbose = bool(options.pop("verbose", False))
        self._options = options

    def run(self, pipeline: Any) -> Any:
        return run_in_console(pipeline, verbose=self._verbose, **self._options)
