"""``tfx.v1.types.standard_artifacts``: TFX's artifact types, headrace's with the same names
and properties."""

from __future__ import annotations

from headrace_core import (
    Boolean,
    Bytes,
    ExampleAnomalies,
    Examples,
    ExamplesDiff,
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
    PushedModel,
    Schema,
    String,
    TransformCache,
    TransformGraph,
    TunerResults,
)

__all__ = [
    "Boolean",
    "Bytes",
    "ExampleAnomalies",
    "ExampleStatistics",
    "Examples",
    "ExamplesDiff",
    "Float",
    "HyperParameters",
    "InferenceResult",
    "InfraBlessing",
    "Integer",
    "JsonValue",
    "Model",
    "ModelBlessing",
    "ModelEvaluation",
    "ModelRun",
    "PushedModel",
    "Schema",
    "String",
    "TransformCache",
    "TransformGraph",
    "TunerResults",
]
