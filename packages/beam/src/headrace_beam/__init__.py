"""headrace on Apache Beam: a whole pipeline as one Beam pipeline, a step per node.

``BeamDagRunner`` is TFX's runner of that name; ``headrace run PIPELINE --orchestrator beam``
uses it. Importing this package does not import Beam: a run does.
"""

from __future__ import annotations

from headrace_beam.__about__ import __version__
from headrace_beam.runner import ISOLATIONS, BeamDagRunner

__all__ = ["ISOLATIONS", "BeamDagRunner", "__version__"]
