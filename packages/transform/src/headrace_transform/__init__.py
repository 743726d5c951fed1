"""headrace Transform: feature preprocessing with tf.Transform on Apache Beam.

Importing this package imports only headrace-core's contracts; TensorFlow, Beam and
tf.Transform are imported by the executor when a node runs.
"""

from __future__ import annotations

from headrace_transform.__about__ import __version__
from headrace_transform.component import Transform, TransformSpec
from headrace_transform.udf import UserModuleError

__all__ = ["Transform", "TransformSpec", "UserModuleError", "__version__"]
