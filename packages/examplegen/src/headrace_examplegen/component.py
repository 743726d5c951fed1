"""The ExampleGen components: specs and classes only, never TensorFlow or Beam.

``CsvExampleGen``, ``ImportExampleGen`` and ``ParquetExampleGen`` share TFX's
``FileBasedExampleGen`` parameters and write one ``Examples`` artifact (``outputs['examples']``)
of gzipped ``tf.Example`` TFRecords under ``Split-<name>/``. Configs are TFX's messages as JSON
dicts; TFX protobuf messages are accepted and converted here, so the IR holds plain JSON.
"""

from __future__ import annotations

from typing import Any, ClassVar

from headrace_core import (
    ArtifactValue,
    BaseComponent,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExecutionParameter,
    InvalidComponentArgumentError,
)
from headrace_examplegen.config import (
    DEFAULT_INPUT_CONFIG,
    FORMAT_TF_EXAMPLE,
    ExampleGenError,
    config_to_dict,
    default_output_config,
    input_splits,
    output_splits,
    static_span,
)
from headrace_examplegen.config import output_data_format as check_output_data_format
from headrace_examplegen.resolve import parse_specs

__all__ = [
    "CsvExampleGen",
    "FileBasedExampleGen",
    "FileBasedExampleGenSpec",
    "ImportExampleGen",
    "ParquetExampleGen",
]


class FileBasedExampleGenSpec(ComponentSpec):
    """TFX's ``FileBasedExampleGenSpec``: where the files are, how to split, which span."""

    PARAMETERS = {
        "input_base": ExecutionParameter(type=str, description="directory holding the input"),
        "input_config": ExecutionParameter(
            type=dict,
            optional=True,
            description="example_gen_pb2.Input as JSON: split names and glob patterns",
        ),
        "output_config": ExecutionParameter(
            type=dict,
            optional=True,
            description="example_gen_pb2.Output as JSON: hash-bucket split config",
        ),
        "range_config": ExecutionParameter(
            type=dict,
            optional=True,
            description="range_config_pb2.RangeConfig as JSON: static_range picks a span",
        ),
        "output_data_format": ExecutionParameter(
            type=int,
            default=FORMAT_TF_EXAMPLE,
            description="example_gen_pb2.PayloadFormat; only FORMAT_TF_EXAMPLE (6)",
        ),
        "custom_config": ExecutionParameter(
            type=dict, optional=True, description="free-form options for custom executors"
        ),
    }
    INPUTS = {}
    OUTPUTS = {"examples": ChannelParameter(type=Examples)}


class FileBasedExampleGen(BaseComponent):
    """Base of the file-based ExampleGens: converts and checks TFX-style arguments.

    ``input_config`` defaults to one split ``single_split`` matching ``*``; ``output_config``
    to train:eval 2:1 when there is one input split (otherwise the input's splits are kept).
    """

    SPEC_CLASS = FileBasedExampleGenSpec
    EXECUTOR_SPEC: ClassVar[str | type] = "headrace_examplegen.executor:CsvExecutor"
    DRIVER_SPEC = "headrace_examplegen.driver:drive"

    def __init__(
        self,
        input_base: str | None = None,
        input_config: Any = None,
        output_config: Any = None,
        range_config: Any = None,
        output_data_format: int | str = FORMAT_TF_EXAMPLE,
        custom_config: Any = None,
    ) -> None:
        name = type(self).__name__
        try:
            inputs = config_to_dict(input_config, "input_config") or dict(DEFAULT_INPUT_CONFIG)
            outputs = config_to_dict(output_config, "output_config")
            if outputs is None:  # as in TFX, an empty config keeps the input's splits
                outputs = default_output_config(inputs)
            # A range_config read from an upstream artifact when the node launches (TFX's
            # placeholder) is checked then, by the driver.
            later = isinstance(range_config, ArtifactValue)
            ranges = range_config if later else config_to_dict(range_config, "range_config")
            custom = config_to_dict(custom_config, "custom_config")
            output_splits(inputs, outputs)
            self._check_patterns(inputs, later or static_span(ranges) is not None)
            data_format = check_output_data_format(output_data_format)
        except ExampleGenError as e:
            raise InvalidComponentArgumentError(f"{name}: {e}") from None
        super().__init__(
            input_base=input_base,
            input_config=inputs,
            output_config=outputs,
            range_config=ranges,
            output_data_format=data_format,
            custom_config=custom,
        )

    @staticmethod
    def _check_patterns(input_config: dict[str, Any], has_range: bool) -> None:
        for split, pattern in input_splits(input_config):
            specs = parse_specs(pattern)
            if has_range and not (specs.span or specs.date):
                raise ExampleGenError(
                    f"range_config selects a span, but split {split!r} pattern {pattern!r} has "
                    "no {SPAN} or date spec"
                )


class CsvExampleGen(FileBasedExampleGen):
    """CSV files with a header line to ``tf.Example``: column types inferred over every row
    (int64, else float, else bytes); empty cells are missing values."""

    EXECUTOR_SPEC = "headrace_examplegen.executor:CsvExecutor"


class ImportExampleGen(FileBasedExampleGen):
    """Existing TFRecord files of serialized ``tf.Example`` (gzipped or not), re-split and
    copied as they are."""

    EXECUTOR_SPEC = "headrace_examplegen.executor:ImportExecutor"


class ParquetExampleGen(FileBasedExampleGen):
    """Parquet files to ``tf.Example``: integer and boolean columns become int64, floating
    columns float, strings and binaries bytes; lists of those become multi-valued features."""

    EXECUTOR_SPEC = "headrace_examplegen.executor:ParquetExecutor"
