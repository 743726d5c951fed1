"""Errors the Pusher raises on purpose, each naming the path at fault."""

from __future__ import annotations

from headrace_core import HeadraceError

__all__ = ["PushDestinationError", "PusherError", "SavedModelNotFoundError"]


class PusherError(HeadraceError):
    """Base of the Pusher's own errors."""


class SavedModelNotFoundError(PusherError, FileNotFoundError):
    """The model artifact holds no SavedModel where the Trainer writes it
    (``<model.uri>/Format-Serving/saved_model.pb``)."""


class PushDestinationError(PusherError, OSError):
    """The push destination cannot be written, or its push records cannot be read."""
