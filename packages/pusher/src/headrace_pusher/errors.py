"""Errors the Pusher raises on purpose, each naming the path at fault."""

from __future__ import annotations

from headrace_core import HeadraceError

__all__ = ["PushDestinationError", "PusherError", "SavedModelNotFoundError"]


class PusherError(HeadraceError):
    """Base of the Pusher's own errors."""


class SavedModelNotFoundError(PusherError, FileNotFoundError):
    """The model artifact holds no model where the Trainer writes it: no
    ``<model.uri>/Format-Serving/saved_model.pb``, nor a TFLite model (``tflite``) there."""


class PushDestinationError(PusherError, OSError):
    """The push destination cannot be written, or its push records cannot be read."""
