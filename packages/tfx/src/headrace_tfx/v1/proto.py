"""``tfx.v1.proto``: TFX's configuration messages, real protobuf messages with TFX's package,
message and field names (compiled from this package's ``.proto`` files at build time)."""

from __future__ import annotations

from headrace_tfx.proto.bulk_inferrer_pb2 import (
    ClassifyOutput,
    DataSpec,
    ModelSpec,
    OutputColumnsSpec,
    OutputExampleSpec,
    PredictOutput,
    PredictOutputCol,
    RegressOutput,
)
from headrace_tfx.proto.evaluator_pb2 import FeatureSlicingSpec, SingleSlicingSpec
from headrace_tfx.proto.example_diff_pb2 import ExampleDiffConfig, PairedExampleSkew
from headrace_tfx.proto.example_gen_pb2 import (
    CustomConfig,
    FileFormat,
    Input,
    Output,
    PayloadFormat,
    SplitConfig,
)
from headrace_tfx.proto.infra_validator_pb2 import (
    EnvVar,
    EnvVarSource,
    KubernetesConfig,
    LocalDockerConfig,
    PodOverrides,
    RequestSpec,
    SecretKeySelector,
    ServingSpec,
    TensorFlowServing,
    TensorFlowServingRequestSpec,
    ValidationSpec,
)
from headrace_tfx.proto.pusher_pb2 import PushDestination, Versioning
from headrace_tfx.proto.range_config_pb2 import RangeConfig, RollingRange, StaticRange
from headrace_tfx.proto.trainer_pb2 import EvalArgs, TrainArgs
from headrace_tfx.proto.transform_pb2 import SplitsConfig
from headrace_tfx.proto.tuner_pb2 import TuneArgs

__all__ = [
    "ClassifyOutput",
    "CustomConfig",
    "DataSpec",
    "EnvVar",
    "EnvVarSource",
    "EvalArgs",
    "ExampleDiffConfig",
    "FeatureSlicingSpec",
    "FileFormat",
    "Input",
    "KubernetesConfig",
    "LocalDockerConfig",
    "ModelSpec",
    "Output",
    "OutputColumnsSpec",
    "OutputExampleSpec",
    "PairedExampleSkew",
    "PayloadFormat",
    "PodOverrides",
    "PredictOutput",
    "PredictOutputCol",
    "PushDestination",
    "RangeConfig",
    "RegressOutput",
    "RequestSpec",
    "RollingRange",
    "SecretKeySelector",
    "ServingSpec",
    "SingleSlicingSpec",
    "SplitConfig",
    "SplitsConfig",
    "StaticRange",
    "TensorFlowServing",
    "TensorFlowServingRequestSpec",
    "TrainArgs",
    "TuneArgs",
    "ValidationSpec",
    "Versioning",
]
