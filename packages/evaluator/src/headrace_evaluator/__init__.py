"""headrace Evaluator: TensorFlow Model Analysis on Beam and a model blessing, as TFX's
Evaluator.

Importing this package imports only headrace-core's contracts and protobuf; TensorFlow, TFMA
and Beam are imported by the executor when a node runs.
"""

from __future__ import annotations

from headrace_evaluator.__about__ import __version__
from headrace_evaluator.component import Evaluator, EvaluatorSpec
from headrace_evaluator.errors import EvaluatorError
from headrace_evaluator.eval_config import normalize_eval_config

__all__ = [
    "Evaluator",
    "EvaluatorError",
    "EvaluatorSpec",
    "__version__",
    "normalize_eval_config",
]
