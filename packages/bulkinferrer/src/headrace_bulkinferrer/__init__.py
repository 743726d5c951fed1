"""headrace BulkInferrer: batch inference with a (blessed) SavedModel on Beam, as TFX's
BulkInferrer.

Importing this package imports only headrace-core's contracts; TensorFlow, tfx-bsl and Beam
are imported by the executor when a node runs.
"""

from __future__ import annotations

from headrace_bulkinferrer.__about__ import __version__
from headrace_bulkinferrer.component import BulkInferrer, BulkInferrerSpec
from headrace_bulkinferrer.errors import BulkInferrerError
from headrace_bulkinferrer.specs import (
    normalize_data_spec,
    normalize_model_spec,
    normalize_output_example_spec,
)

__all__ = [
    "BulkInferrer",
    "BulkInferrerError",
    "BulkInferrerSpec",
    "__version__",
    "normalize_data_spec",
    "normalize_model_spec",
    "normalize_output_example_spec",
]
