"""The plugin's artifact type."""

from __future__ import annotations

from headrace_core import Artifact, PropertyType

__all__ = ["EMBEDDINGS_FILE", "Embeddings"]

#: The file, inside an ``Embeddings`` artifact's uri, that holds the vectors (JSON).
EMBEDDINGS_FILE = "embeddings.json"


class Embeddings(Artifact):
    """Fixed-size vectors, one per example, stored as JSON in ``<uri>/embeddings.json``."""

    TYPE_NAME = "Embeddings"
    PROPERTIES = {"dimension": PropertyType.INT}
