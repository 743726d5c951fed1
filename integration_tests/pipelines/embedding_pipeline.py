"""A pipeline that mixes the example plugin's ``EmbeddingGen`` with core function components.

Compiled by the integration tests with ``headrace compile`` and run node by node.
"""

from __future__ import annotations

import json
import os
from typing import TypedDict

from headrace_example_plugin import EmbeddingGen, Embeddings

from headrace_core import (
    Examples,
    InputArtifact,
    OutputArtifact,
    Parameter,
    Pipeline,
    component,
)
from headrace_core.artifacts import encode_split_names, split_uri

PIPELINE_NAME = "embedding-demo"
PIPELINE_ROOT = "/tmp/headrace-integration/embedding-demo"
DIMENSION = 8


class VectorStats(TypedDict):
    count: int
    dimension: int


@component
def MakeExamples(examples: OutputArtifact[Examples], splits: Parameter[str] = "train,eval") -> None:
    """Writes a tiny CSV per split."""
    names = [s.strip() for s in splits.split(",") if s.strip()]
    for index, name in enumerate(names):
        directory = split_uri(examples, name)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "data.csv"), "w", encoding="utf-8") as f:
            f.write("x,y\n")
            f.write(f"{index},{index * 2}\n")
    examples.split_names = encode_split_names(names)
    examples.span = 0


@component
def CountVectors(embeddings: InputArtifact[Embeddings]) -> VectorStats:
    """Reads the embeddings file back and reports what it holds."""
    with open(os.path.join(embeddings.uri, "embeddings.json"), encoding="utf-8") as f:
        document = json.load(f)
    vectors = document["vectors"]
    return {"count": len(vectors), "dimension": len(next(iter(vectors.values())))}


def create_pipeline() -> Pipeline:
    examples = MakeExamples()
    embeddings = EmbeddingGen(dimension=DIMENSION, examples=examples.outputs["examples"])
    # The optional input left out: vectors are made from num_vectors instead.
    standalone = EmbeddingGen(dimension=3, num_vectors=2).with_id("StandaloneEmbeddings")
    stats = CountVectors(embeddings=embeddings.outputs["embeddings"])
    return Pipeline(
        pipeline_name=PIPELINE_NAME,
        pipeline_root=PIPELINE_ROOT,
        components=[stats, standalone, embeddings, examples],
    )
