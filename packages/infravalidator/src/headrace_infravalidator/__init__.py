"""headrace InfraValidator: a candidate model loaded and queried in a model-server process of
its own before it is pushed, as TFX's InfraValidator.

Importing this package imports only headrace-core's contracts; TensorFlow is imported by the
executor's server process when a node runs.
"""

from __future__ import annotations

from headrace_infravalidator.__about__ import __version__
from headrace_infravalidator.component import InfraValidator, InfraValidatorSpec
from headrace_infravalidator.errors import InfraValidatorError

__all__ = ["InfraValidator", "InfraValidatorError", "InfraValidatorSpec", "__version__"]
