"""headrace Pusher: pushes a blessed SavedModel into TensorFlow Serving's layout, as TFX's
Pusher does.

Importing this package imports only headrace-core's contracts. The push itself is plain file
operations: no TensorFlow, at definition time or when the node runs.
"""

from __future__ import annotations

from headrace_pusher.__about__ import __version__
from headrace_pusher.component import Pusher, PusherSpec
from headrace_pusher.errors import PushDestinationError, PusherError, SavedModelNotFoundError

__all__ = [
    "PushDestinationError",
    "Pusher",
    "PusherError",
    "PusherSpec",
    "SavedModelNotFoundError",
    "__version__",
]
