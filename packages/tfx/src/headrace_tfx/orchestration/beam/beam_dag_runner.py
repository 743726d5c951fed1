"""``tfx.orchestration.beam.beam_dag_runner``: TFX's ``BeamDagRunner``, on headrace-beam."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headrace_core.orchestration.local import run_in_console

__all__ = ["BeamDagRunner"]


class BeamDagRunner:
    """``BeamDagRunner(beam_orchestrator_args).run(pipeline)``: the whole pipeline as one Beam
    pipeline (headrace-beam), printing what ``headrace run`` prints and raising
    ``PipelineRunError`` naming the failed nodes, as TFX's runner fails the script."""

    def __init__(self, beam_orchestrator_args: Sequence[str] | None = None, **options: Any) -> None:
        self._args = list(beam_orchestrator_args or [])
        self._options = options

    def run(self, pipeline: Any) -> Any:
        try:
            from headrace_beam import BeamDagRunner as Runner
        except ImportError as e:
            if e.name != "headrace_beam":
                raise
            raise ImportError(
                "tfx.orchestration.beam.beam_dag_runner.BeamDagRunner runs on headrace-beam, "
                "which is not installed: pip install headrace-beam"
            ) from None
        return run_in_console(pipeline, runner=Runner(self._args, **self._options))
