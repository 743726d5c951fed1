"""An example third-party headrace plugin: an ``Embeddings`` artifact type and ``EmbeddingGen``.

Importing this package imports only headrace-core's contracts; the executor (the part that
would pull in heavy libraries in a real plugin) is imported when a node runs.
"""

from __future__ import annotations

from headrace_example_plugin.artifacts import Embeddings
from headrace_example_plugin.component import EmbeddingGen, EmbeddingGenSpec

__version__ = "0.3.1"

__all__ = ["EmbeddingGen", "EmbeddingGenSpec", "Embeddings", "__version__"]
