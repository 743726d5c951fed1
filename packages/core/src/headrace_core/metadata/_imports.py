"""Importing ``ml_metadata`` without ``grpc``, which SQLite and MySQL stores never use."""

from __future__ import annotations

import importlib
import sys
import threading
import types
from typing import Any

__all__ = ["import_ml_metadata"]


class _DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is read, then imports the real one
    (through the import system, so with its locks) and hands every attribute over from it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._real: types.ModuleType | None = None
        self._lock = threading.Lock()

    def __getattr__(self, attr: str) -> Any:  # only for what the stand-in itself lacks
        if self._real is None:
            with self._lock:
                if self._real is None:
                    if sys.modules.get(self.__name__) is self:
                        del sys.modules[self.__name__]
                    self._real = importlib.import_module(self.__name__)
        return getattr(self._real, attr)


_IMPORT_LOCK = threading.Lock()


def import_ml_metadata() -> None:
    """Import ``ml_metadata`` without importing ``grpc`` (about 40 ms).

    ``ml_metadata``'s package imports its gRPC client module, which binds ``grpc`` at import but
    uses it only to talk to an MLMD server (``MetadataStoreClientConfig``); SQLite and MySQL
    stores go through the bundled C++ library. So ``grpc`` is a :class:`_DeferredModule` while
    ``ml_metadata`` is imported, and leaves ``sys.modules`` right after: ``ml_metadata`` keeps
    the stand-in, which imports the real ``grpc`` on first use, and everyone else importing
    ``grpc`` gets the real module as usual.
    """
    if "ml_metadata" in sys.modules or "grpc" in sys.modules:
        return
    with _IMPORT_LOCK:
        if "ml_metadata" in sys.modules or "grpc" in sys.modules:
            return
        stand_in = _DeferredModule("grpc")
        sys.modules["grpc"] = stand_in
        try:
            import ml_metadata  # noqa: F401
        finally:
            if sys.modules.get("grpc") is stand_in:
                del sys.modules["grpc"]
