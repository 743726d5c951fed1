"""The store the interface reads, opened read-only on first use, and what to say when it
cannot be read: missing, unreachable, or of a schema this ml-metadata does not know."""

from __future__ import annotations

import threading
from typing import Any

from headrace_core.metadata import MetadataStore, redact, sqlite_path, store_exists

__all__ = ["StoreAccess", "StoreProblemError"]


class StoreProblemError(Exception):
    """A store the pages cannot read: ``title`` for the page's heading, ``detail`` for its
    body (the URL in it is redacted)."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(f"{title}: {detail}")
        self.title = title
        self.detail = detail


class StoreAccess:
    """One read-only connection, opened when a page first needs it and kept: a store that
    is missing at start-up (nothing ran yet) is looked for again on every request."""

    def __init__(self, url: str) -> None:
        self.url = url
        #: The URL as pages show it: never a password.
        self.shown = redact(url)
        self._store: MetadataStore | None = None
        self._lock = threading.Lock()

    def get(self) -> MetadataStore:
        if self._store is not None:
            return self._store
        with self._lock:
            if self._store is None:
                self._store = self._open()
            return self._store

    def _open(self) -> MetadataStore:
        from headrace_core.errors import HeadraceError

        if not store_exists(self.url):
            raise StoreProblemError(
                "No metadata store",
                f"there is no store at {sqlite_path(self.url)}: nothing has run with this "
                "pipeline root yet, or the path is wrong. Run a pipeline, then reload.",
            )
        try:
            # read_only: SQLite opened without write access; on MySQL the interface simply
            # never calls a put.
            return MetadataStore(self.url, read_only=True, busy_timeout=10.0)
        except HeadraceError as e:
            text = str(e)
            title = "Cannot read the metadata store"
            if "newer" in text.lower():
                title = "The metadata store has a newer schema"
            raise StoreProblemError(title, text.replace(self.url, self.shown)) from None
        except Exception as e:  # ml-metadata's own errors: name the store, not a traceback
            raise StoreProblemError(
                "Cannot read the metadata store", f"{self.shown}: {type(e).__name__}: {e}"
            ) from None

    def close(self) -> None:
        self._store = None

    def describe(self) -> dict[str, Any]:
        return {"url": self.shown}
