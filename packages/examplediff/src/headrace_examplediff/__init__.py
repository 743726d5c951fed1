"""headrace ExampleDiff: example-level skew between two Examples artifacts, as TFX's
ExampleDiff (TFDV's feature skew detector on Beam).

Importing this package imports only headrace-core's contracts; TensorFlow, TFDV and Beam are
imported by the executor when a node runs.
"""

from __future__ import annotations

from headrace_examplediff.__about__ import __version__
from headrace_examplediff.component import ExampleDiff, ExampleDiffSpec
from headrace_examplediff.config import normalize_config, normalize_include_split_pairs
from headrace_examplediff.errors import ExampleDiffError

__all__ = [
    "ExampleDiff",
    "ExampleDiffError",
    "ExampleDiffSpec",
    "__version__",
    "normalize_config",
    "normalize_include_split_pairs",
]
