"""``StatisticsGen``'s executor: TFDV on Apache Beam, as TFX's. Imported only when a node runs.

Per split: ``TFExampleRecord`` (tfx-bsl) decodes the gzipped tf.Example TFRecords into Arrow
record batches, ``tfdv.GenerateStatistics`` computes the statistics and
``tfdv.WriteStatisticsToBinaryFile`` writes ``Split-<name>/FeatureStats.pb`` (a serialized
``DatasetFeatureStatisticsList``). Every split runs in one Beam pipeline. Afterwards each
split's statistics are rendered to ``Split-<name>/statistics.html`` and all splits together to
``statistics.html`` at the artifact's root.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import struct
from collections.abc import Mapping
from typing import Any

import apache_beam as beam
import tensorflow_data_validation as tfdv
from google.protobuf import json_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2
from tfx_bsl.public import tfxio

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import encode_split_names, split_uri
from headrace_core.executor import included_splits, single_input
from headrace_statisticsgen.component import check_stats_options
from headrace_statisticsgen.render import (
    HTML_FILE_NAME,
    STATS_FILE_NAME,
    feature_names,
    render_html,
)
from headrace_tfdv_io import load_schema

__all__ = ["Executor", "make_stats_options"]

_log = logging.getLogger(__name__)
_TELEMETRY_DESCRIPTORS = ["StatisticsGen"]
_GZIP_MAGIC = b"\x1f\x8b"
#: What TFX's ExampleGen records in the ``payload_format`` custom property.
_TF_EXAMPLE_FORMATS = ("", "FORMAT_TF_EXAMPLE")


def make_stats_options(options: Mapping[str, Any] | None) -> tfdv.StatsOptions:
    """A ``tfdv.StatsOptions`` from StatisticsGen's ``stats_options`` parameter.

    The parameter holds either ``StatsOptions`` constructor arguments (``schema`` and
    ``slicing_config`` as their protos' JSON) or ``StatsOptions.to_json()``'s form.
    """
    if not options:
        return tfdv.StatsOptions()
    check_stats_options(options)
    try:
        if options.get("TYPE_NAME") is not None:
            return tfdv.StatsOptions.from_json(json.dumps(dict(options)))
        kwargs = dict(options)
        if kwargs.get("schema") is not None:
            kwargs["schema"] = json_format.ParseDict(kwargs["schema"], schema_pb2.Schema())
        if kwargs.get("slicing_config") is not None:
            from tfx_bsl.public.proto import slicing_spec_pb2

            kwargs["slicing_config"] = json_format.ParseDict(
                kwargs["slicing_config"], slicing_spec_pb2.SlicingConfig()
            )
        return tfdv.StatsOptions(**kwargs)
    except (TypeError, ValueError, json_format.ParseError) as e:
        raise ValueError(f"StatisticsGen: invalid stats_options: {e}") from None


def _data_files(split: str, directory: str) -> list[str]:
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"StatisticsGen: split {split!r} has no directory {directory} in the examples"
        )
    files = [
        os.path.join(directory, name)
        for name in sorted(os.listdir(directory))
        if not name.startswith((".", "_")) and os.path.isfile(os.path.join(directory, name))
    ]
    if not files:
        raise FileNotFoundError(f"StatisticsGen: split {split!r} has no files in {directory}")
    return files


def _check_first_record(split: str, path: str) -> bool:
    """Check that ``path`` holds TFRecords of tf.Example; return whether it is gzipped.

    Beam's own errors on a bad file name neither the split nor the file, so the first record
    of each file is checked here.
    """
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
    opener = gzip.open if compressed else open
    where = f"StatisticsGen: split {split!r}: {path}"
    try:
        with opener(path, "rb") as f:
            header = f.read(12)
            if not header:
                return compressed
            if len(header) < 12:
                raise ValueError(f"{where}: not a TFRecord file (truncated first record)")
            (length,) = struct.unpack("<Q", header[:8])
            payload = f.read(min(length, 64 * 1024 * 1024))
    except (OSError, EOFError) as e:
        raise ValueError(f"{where}: cannot read: {e}") from None
    if len(payload) != length:
        raise ValueError(
            f"{where}: not a TFRecord file (first record claims {length} bytes, "
            f"{len(payload)} present)"
        )
    from tensorflow.core.example import example_pb2

    try:
        example_pb2.Example.FromString(payload)
    except Exception as e:  # protobuf raises DecodeError, a plain Exception subclass
        raise ValueError(f"{where}: the first record is not a tf.Example: {e}") from None
    return compressed


def _read_split(pipeline: Any, split: str, files: list[str], compressed: list[bool]) -> Any:
    """Record batches of ``files``: TFX's source, ``TFExampleRecord(...).BeamSource()``.

    Beam infers compression from the ``.gz`` suffix only; when a file's suffix and content
    disagree, the raw records are read with the actual compression and batched by the same
    ``TFExampleRecord``.
    """
    record_io = tfxio.TFExampleRecord(
        file_pattern=files, telemetry_descriptors=_TELEMETRY_DESCRIPTORS
    )
    if all(c == path.endswith(".gz") for c, path in zip(compressed, files, strict=True)):
        return pipeline | f"TFXIORead[{split}]" >> record_io.BeamSource()
    types = beam.io.filesystem.CompressionTypes
    reads = [
        pipeline
        | f"ReadTFRecord[{split}][{i}]"
        >> beam.io.ReadFromTFRecord(  # type: ignore[no-untyped-call]
            path,
            coder=beam.coders.BytesCoder(),
            compression_type=types.GZIP if gz else types.UNCOMPRESSED,
        )
        for i, (path, gz) in enumerate(zip(files, compressed, strict=True))
    ]
    return (
        reads
        | f"Flatten[{split}]" >> beam.Flatten()  # type: ignore[no-untyped-call]
        | f"TFXIORead[{split}]" >> record_io.RawRecordToRecordBatch()
    )


class Executor(BaseExecutor):
    """Computes statistics of each non-excluded split of ``examples``."""

    def Do(  # noqa: N802 - TFX's name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        examples = single_input(input_dict, "examples", component="StatisticsGen")
        statistics = single_input(
            output_dict, "statistics", component="StatisticsGen", what="output"
        )

        splits = included_splits(
            examples,
            exec_properties.get("exclude_splits"),
            component="StatisticsGen",
            role="examples",
            purpose="compute statistics of",
        )
        payload_format = str(examples.get_custom_property("payload_format") or "")
        if payload_format not in _TF_EXAMPLE_FORMATS:
            raise ValueError(
                f"StatisticsGen: examples at {examples.uri} have payload_format "
                f"{payload_format!r}; only FORMAT_TF_EXAMPLE is supported"
            )

        stats_options = make_stats_options(exec_properties.get("stats_options"))
        schema_artifact = single_input(
            input_dict, "schema", component="StatisticsGen", optional=True
        )
        if schema_artifact is not None:
            if stats_options.schema is not None:
                raise ValueError(
                    "StatisticsGen: a schema was provided as an input and stats_options "
                    "also contains a schema; at most one may be set"
                )
            stats_options.schema = load_schema(schema_artifact.uri, component="StatisticsGen")

        files = {split: _data_files(split, split_uri(examples, split)) for split in splits}
        compressed = {
            split: [_check_first_record(split, path) for path in paths]
            for split, paths in files.items()
        }
        outputs = {
            split: os.path.join(split_uri(statistics, split), STATS_FILE_NAME) for split in splits
        }
        for path in outputs.values():
            os.makedirs(os.path.dirname(path), exist_ok=True)

        try:
            with beam.Pipeline(argv=self._get_beam_pipeline_args()) as pipeline:  # type: ignore[attr-defined]
                for split in splits:
                    _ = (
                        _read_split(pipeline, split, files[split], compressed[split])
                        | f"GenerateStatistics[{split}]" >> tfdv.GenerateStatistics(stats_options)
                        | f"WriteStatsOutput[{split}]"
                        >> tfdv.WriteStatisticsToBinaryFile(outputs[split])
                    )
        except Exception as e:
            raise RuntimeError(
                f"StatisticsGen: computing statistics of split(s) {', '.join(splits)} of "
                f"{examples.uri} failed: {type(e).__name__}: {e}"
            ) from e

        loaded: list[tuple[str, statistics_pb2.DatasetFeatureStatisticsList]] = [
            (split, tfdv.load_stats_binary(outputs[split])) for split in splits
        ]
        every_feature = feature_names(loaded)
        for split, stats in loaded:
            page = render_html(
                [(split, stats)],
                title=f"Statistics: split {split}",
                expected_features=every_feature,
            )
            with open(
                os.path.join(split_uri(statistics, split), HTML_FILE_NAME), "w", encoding="utf-8"
            ) as f:
                f.write(page)
        with open(os.path.join(statistics.uri, HTML_FILE_NAME), "w", encoding="utf-8") as f:
            f.write(render_html(loaded, title="Statistics"))

        statistics.split_names = encode_split_names(splits)
        span = examples.get_property("span")
        if isinstance(span, int):
            statistics.span = span
