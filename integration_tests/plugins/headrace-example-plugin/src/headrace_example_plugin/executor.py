"""``EmbeddingGen``'s executor. Imported only when the node runs."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import decode_split_names
from headrace_example_plugin.artifacts import EMBEDDINGS_FILE, Embeddings

__all__ = ["EmbeddingExecutor", "embed"]


def embed(key: str, dimension: int) -> list[float]:
    """A deterministic unit-free vector in [-1, 1) derived from ``key``."""
    values: list[float] = []
    counter = 0
    while len(values) < dimension:
        digest = hashlib.sha256(f"{key}/{counter}".encode()).digest()
        values.extend(round(b / 128.0 - 1.0, 6) for b in digest)
        counter += 1
    return values[:dimension]


class EmbeddingExecutor(BaseExecutor):
    """Writes ``<uri>/embeddings.json`` and sets the output's ``dimension`` property."""

    def Do(  # TFX's method name, so ported executors keep working
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        dimension = exec_properties["dimension"]
        if not isinstance(dimension, int) or isinstance(dimension, bool) or dimension < 1:
            raise ValueError(f"EmbeddingGen: dimension must be a positive int, got {dimension!r}")
        outputs = output_dict.get("embeddings") or []
        if len(outputs) != 1 or not isinstance(outputs[0], Embeddings):
            raise ValueError("EmbeddingGen: expects exactly one Embeddings output artifact")
        output = outputs[0]

        keys: list[str] = []
        for examples in input_dict.get("examples") or []:
            encoded = examples.get_property("split_names")
            splits = decode_split_names(encoded if isinstance(encoded, str) else None)
            keys.extend(f"{examples.uri}#{split}" for split in splits or ["all"])
        if not keys:
            keys = [f"vector-{i}" for i in range(int(exec_properties.get("num_vectors", 4)))]

        os.makedirs(output.uri, exist_ok=True)
        document = {
            "dimension": dimension,
            "vectors": {key: embed(key, dimension) for key in keys},
        }
        with open(os.path.join(output.uri, EMBEDDINGS_FILE), "w", encoding="utf-8") as f:
            json.dump(document, f, sort_keys=True)
        output.dimension = dimension
        output.set_custom_property("num_vectors", len(keys))
