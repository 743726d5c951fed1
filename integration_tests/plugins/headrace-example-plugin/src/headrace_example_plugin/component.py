"""The ``EmbeddingGen`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

from headrace_core import (
    BaseComponent,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExecutionParameter,
)
from headrace_example_plugin.artifacts import Embeddings

__all__ = ["EmbeddingGen", "EmbeddingGenSpec"]


class EmbeddingGenSpec(ComponentSpec):
    PARAMETERS = {
        "dimension": ExecutionParameter(type=int, description="length of each vector"),
        "num_vectors": ExecutionParameter(
            type=int, default=4, description="vectors to make when no examples are given"
        ),
    }
    INPUTS = {
        "examples": ChannelParameter(
            type=Examples, optional=True, description="one vector is made per split"
        ),
    }
    OUTPUTS = {"embeddings": ChannelParameter(type=Embeddings)}


class EmbeddingGen(BaseComponent):
    """Makes deterministic embedding vectors of ``dimension`` numbers."""

    SPEC_CLASS = EmbeddingGenSpec
    # A string, so defining or compiling a pipeline never imports the executor.
    EXECUTOR_SPEC = "headrace_example_plugin.executor:EmbeddingExecutor"
