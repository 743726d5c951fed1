"""headrace: production ML pipelines in the architecture of TFX.

The core holds the contracts every other package builds on: artifacts, components, the
pipeline DSL, the portable IR and the plugin system. It never imports TensorFlow or Beam.
"""

from __future__ import annotations

from headrace_core.__about__ import __version__
from headrace_core.artifacts import (
    Artifact,
    ArtifactState,
    Boolean,
    Bytes,
    ExampleAnomalies,
    Examples,
    ExampleStatistics,
    Float,
    HyperParameters,
    InferenceResult,
    InfraBlessing,
    Integer,
    JsonValue,
    Model,
    ModelBlessing,
    ModelEvaluation,
    ModelRun,
    PropertyType,
    PushedModel,
    Schema,
    String,
    TransformCache,
    TransformGraph,
    ValueArtifact,
)
from headrace_core.channels import Channel, OutputChannel, Predicate
from headrace_core.component import (
    BaseComponent,
    BaseNode,
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
)
from headrace_core.dsl import (
    Cond,
    Importer,
    LatestArtifactStrategy,
    LatestBlessedModelStrategy,
    Pipeline,
    Resolver,
    SpanRangeStrategy,
)
from headrace_core.errors import (
    ComponentDefinitionError,
    HeadraceError,
    InvalidComponentArgumentError,
    InvalidPipelineError,
    IRError,
    PipelineFileError,
    PluginLoadError,
)
from headrace_core.executor import BaseExecutor, ExecutorContext
from headrace_core.function import InputArtifact, OutputArtifact, Parameter, component
from headrace_core.placeholders import PIPELINE_ROOT, pipeline_root

__all__ = [
    "PIPELINE_ROOT",
    "Artifact",
    "ArtifactState",
    "BaseComponent",
    "BaseExecutor",
    "BaseNode",
    "Boolean",
    "Bytes",
    "Channel",
    "ChannelParameter",
    "ComponentDefinitionError",
    "ComponentSpec",
    "Cond",
    "ExampleAnomalies",
    "ExampleStatistics",
    "Examples",
    "ExecutionParameter",
    "ExecutorContext",
    "Float",
    "HeadraceError",
    "HyperParameters",
    "IRError",
    "Importer",
    "InferenceResult",
    "InfraBlessing",
    "InputArtifact",
    "Integer",
    "InvalidComponentArgumentError",
    "InvalidPipelineError",
    "JsonValue",
    "LatestArtifactStrategy",
    "LatestBlessedModelStrategy",
    "Model",
    "ModelBlessing",
    "ModelEvaluation",
    "ModelRun",
    "OutputArtifact",
    "OutputChannel",
    "Parameter",
    "Pipeline",
    "PipelineFileError",
    "PluginLoadError",
    "Predicate",
    "PropertyType",
    "PushedModel",
    "Resolver",
    "Schema",
    "SpanRangeStrategy",
    "String",
    "TransformCache",
    "TransformGraph",
    "ValueArtifact",
    "__version__",
    "component",
    "pipeline_root",
]
