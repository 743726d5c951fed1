"""headrace ExampleValidator: validates example statistics against a schema with TFDV.

Importing this package imports only headrace-core's contracts; TensorFlow Data Validation is
imported by the executor when a node runs.
"""

from __future__ import annotations

from headrace_examplevalidator.__about__ import __version__
from headrace_examplevalidator.component import ExampleValidator, ExampleValidatorSpec
from headrace_examplevalidator.errors import AnomaliesFoundError

__all__ = ["AnomaliesFoundError", "ExampleValidator", "ExampleValidatorSpec", "__version__"]
