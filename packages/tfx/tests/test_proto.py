"""TFX's proto messages: real protobuf messages with TFX's package, message and field names,
so text format, JSON and proto_utils read and write what TFX does."""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format, text_format

from headrace_tfx import v1 as tfx
from headrace_tfx.utils import proto_utils

# TFX 1.16's full names, from its documentation of tfx.v1.proto.
FULL_NAMES = {
    "TrainArgs": "tfx.components.trainer.TrainArgs",
    "EvalArgs": "tfx.components.trainer.EvalArgs",
    "PushDestination": "tfx.components.pusher.PushDestination",
    "RangeConfig": "tfx.configs.RangeConfig",
    "StaticRange": "tfx.configs.StaticRange",
    "RollingRange": "tfx.configs.RollingRange",
    "SplitsConfig": "tfx.components.transform.SplitsConfig",
    "Input": "tfx.components.example_gen.Input",
    "Output": "tfx.components.example_gen.Output",
    "SplitConfig": "tfx.components.example_gen.SplitConfig",
    "CustomConfig": "tfx.components.example_gen.CustomConfig",
    "DataSpec": "tfx.components.bulkinferrer.DataSpec",
    "ModelSpec": "tfx.components.bulkinferrer.ModelSpec",
    "OutputExampleSpec": "tfx.components.bulkinferrer.OutputExampleSpec",
    "OutputColumnsSpec": "tfx.components.bulkinferrer.OutputColumnsSpec",
    "ClassifyOutput": "tfx.components.bulkinferrer.ClassifyOutput",
    "RegressOutput": "tfx.components.bulkinferrer.RegressOutput",
    "PredictOutput": "tfx.components.bulkinferrer.PredictOutput",
    "PredictOutputCol": "tfx.components.bulkinferrer.PredictOutputCol",
    "FeatureSlicingSpec": "tfx.components.evaluator.FeatureSlicingSpec",
    "ServingSpec": "tfx.components.infra_validator.ServingSpec",
    "TensorFlowServing": "tfx.components.infra_validator.TensorFlowServing",
    "LocalDockerConfig": "tfx.components.infra_validator.LocalDockerConfig",
    "KubernetesConfig": "tfx.components.infra_validator.KubernetesConfig",
    "PodOverrides": "tfx.components.infra_validator.PodOverrides",
    "EnvVar": "tfx.components.infra_validator.EnvVar",
    "EnvVarSource": "tfx.components.infra_validator.EnvVarSource",
    "SecretKeySelector": "tfx.components.infra_validator.SecretKeySelector",
    "ValidationSpec": "tfx.components.infra_validator.ValidationSpec",
    "RequestSpec": "tfx.components.infra_validator.RequestSpec",
    "TensorFlowServingRequestSpec": "tfx.components.infra_validator.TensorFlowServingRequestSpec",
    "SingleSlicingSpec": "tfx.components.evaluator.SingleSlicingSpec",
    "TuneArgs": "tfx.components.tuner.TuneArgs",
    "ExampleDiffConfig": "tfx.components.example_diff.ExampleDiffConfig",
    "PairedExampleSkew": "tfx.components.example_diff.PairedExampleSkew",
}


def test_every_exported_message_is_checked() -> None:
    enums = {"FileFormat", "PayloadFormat", "Versioning"}
    assert set(tfx.proto.__all__) == set(FULL_NAMES) | enums


@pytest.mark.parametrize("name", sorted(FULL_NAMES))
def test_every_message_has_tfxs_full_name(name: str) -> None:
    message = getattr(tfx.proto, name)
    assert message.DESCRIPTOR.full_name == FULL_NAMES[name]
    # Every message serializes, and round-trips through text and JSON.
    empty = message()
    assert message.FromString(empty.SerializeToString()) == empty


def test_enums_have_tfxs_values() -> None:
    assert tfx.proto.Versioning.Value("UNIX_TIMESTAMP") == 1
    assert tfx.proto.PayloadFormat.Value("FORMAT_TF_EXAMPLE") == 6
    assert tfx.proto.FileFormat.Value("FORMAT_TFRECORDS_GZIP") == 5
    assert tfx.proto.PushDestination.Filesystem.DESCRIPTOR.full_name == (
        "tfx.components.pusher.PushDestination.Filesystem"
    )


def test_text_and_json_written_for_tfx_parse() -> None:
    # The forms TFX users keep in files and pass around.
    output = text_format.Parse(
        """
        split_config {
          splits { name: "train" hash_buckets: 3 }
          splits { name: "eval" hash_buckets: 1 }
        }
        """,
        tfx.proto.Output(),
    )
    assert [s.hash_buckets for s in output.split_config.splits] == [3, 1]
    destination = json_format.Parse(
        '{"filesystem": {"base_directory": "/serving", "versioning": "UNIX_TIMESTAMP"}}',
        tfx.proto.PushDestination(),
    )
    assert destination.filesystem.base_directory == "/serving"
    range_config = tfx.proto.RangeConfig(
        static_range=tfx.proto.StaticRange(start_span_number=1, end_span_number=2)
    )
    assert range_config.WhichOneof("range") == "static_range"
    spec = tfx.proto.OutputExampleSpec(
        output_columns_spec=[
            tfx.proto.OutputColumnsSpec(
                predict_output=tfx.proto.PredictOutput(
                    output_columns=[
                        tfx.proto.PredictOutputCol(output_key="logits", output_column="p")
                    ]
                )
            )
        ]
    )
    assert spec.output_columns_spec[0].WhichOneof("output_type") == "predict_output"


def test_proto_utils_as_tfx_examples_use_it() -> None:
    args = tfx.proto.TrainArgs(splits=["train"], num_steps=100)
    text = proto_utils.proto_to_json(args)
    # TFX's field names and sorted keys, the form TFX stores in execution properties.
    assert json.loads(text) == {"num_steps": 100, "splits": ["train"]}
    assert text.index('"num_steps"') < text.index('"splits"')
    assert proto_utils.json_to_proto(text, tfx.proto.TrainArgs()) == args
    with pytest.raises(json_format.ParseError):
        proto_utils.json_to_proto('{"num_step": 1}', tfx.proto.TrainArgs())
