"""The components: TFX's arguments, defaults, validation and the plugin contract."""

from __future__ import annotations

import pytest

from headrace_core import InvalidComponentArgumentError, Pipeline
from headrace_core.testing import check_distribution
from headrace_examplegen import CsvExampleGen, ImportExampleGen, ParquetExampleGen


def test_tfx_defaults() -> None:
    component = CsvExampleGen(input_base="/data")
    assert component.id == "CsvExampleGen"
    assert component.exec_properties["input_config"] == {
        "splits": [{"name": "single_split", "pattern": "*"}]
    }
    assert component.exec_properties["output_config"] == {
        "split_config": {
            "splits": [{"name": "train", "hash_buckets": 2}, {"name": "eval", "hash_buckets": 1}]
        }
    }
    assert component.exec_properties["output_data_format"] == 6
    assert list(component.outputs) == ["examples"]
    assert component.outputs["examples"].type_name == "Examples"


def test_several_input_splits_are_kept() -> None:
    config = {"splits": [{"name": "train", "pattern": "t/*"}, {"name": "eval", "pattern": "e/*"}]}
    component = ImportExampleGen(input_base="/data", input_config=config)
    assert component.exec_properties["output_config"] == {}
    with pytest.raises(InvalidComponentArgumentError, match="several input splits the output"):
        ImportExampleGen(
            input_base="/data",
            input_config=config,
            output_config={"split_config": {"splits": [{"name": "x", "hash_buckets": 1}]}},
        )


def test_protobuf_messages_are_converted_to_json() -> None:
    """TFX's configs are protobuf messages; any message converts (here a Struct, since the
    tests do not depend on tfx), with TFX's field names kept."""
    from google.protobuf import struct_pb2

    config = struct_pb2.Struct()
    config.update({"splits": [{"name": "single_split", "pattern": "data/*.csv"}]})
    component = ParquetExampleGen(input_base="/data", input_config=config)
    assert component.exec_properties["input_config"] == {
        "splits": [{"name": "single_split", "pattern": "data/*.csv"}]
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_config": {"splits": []}}, "input_config has no splits"),
        ({"input_config": {"splits": [{"name": "a"}]}}, "needs a non-empty 'name' and 'pattern'"),
        (
            {
                "input_config": {
                    "splits": [{"name": "a", "pattern": "*"}, {"name": "a", "pattern": "x"}]
                }
            },
            "duplicate split name",
        ),
        (
            {"output_config": {"split_config": {"splits": [{"name": "t", "hash_buckets": 0}]}}},
            "positive integer 'hash_buckets'",
        ),
        (
            {"range_config": {"static_range": {"start_span_number": 1, "end_span_number": 2}}},
            r"start_span_number \(1\) != end_span_number \(2\)",
        ),
        (
            {"range_config": {"static_range": {"start_span_number": 1, "end_span_number": 1}}},
            "has no {SPAN} or date spec",
        ),
        ({"output_data_format": 7}, "output_data_format 7 is not supported"),
        ({"input_config": "{not json"}, "input_config is not valid JSON"),
    ],
)
def test_bad_arguments_fail_where_the_pipeline_is_written(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=message):
        CsvExampleGen(input_base="/data", **kwargs)


def test_missing_input_base() -> None:
    with pytest.raises(
        InvalidComponentArgumentError, match="missing required parameter 'input_base'"
    ):
        CsvExampleGen()


def test_compiles_to_plain_json(tmp_path) -> None:
    from headrace_core import ir

    pipeline = Pipeline("p", str(tmp_path), [CsvExampleGen(input_base="/data")])
    document = ir.compile(pipeline)
    (node,) = document["nodes"]
    assert node["driver"] == "headrace_examplegen.driver:drive"
    assert node["executor"] == "headrace_examplegen.executor:CsvExecutor"
    assert node["parameters"]["input_base"] == "/data"


def test_conformance() -> None:
    checked = check_distribution("headrace-examplegen")
    assert set(checked) == {"CsvExampleGen", "ImportExampleGen", "ParquetExampleGen"}
