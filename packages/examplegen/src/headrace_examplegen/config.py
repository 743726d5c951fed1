"""ExampleGen's configuration: TFX's ``Input``, ``Output`` and ``RangeConfig`` as JSON dicts.

The shapes are those of ``json_format.MessageToDict(..., preserving_proto_field_name=True)``
applied to TFX's ``example_gen_pb2.Input`` / ``example_gen_pb2.Output`` and
``range_config_pb2.RangeConfig``, so a TFX pipeline's configs carry over unchanged, as protos or
as dicts, without depending on the ``tfx`` package. This module is light (no TensorFlow, no
Beam): the component, the driver and the executor all validate through it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headrace_core.errors import HeadraceError

__all__ = [
    "DEFAULT_INPUT_CONFIG",
    "FILE_FORMAT",
    "FORMAT_TF_EXAMPLE",
    "PAYLOAD_FORMAT",
    "ExampleGenError",
    "OutputSplit",
    "config_to_dict",
    "default_output_config",
    "input_splits",
    "output_data_format",
    "output_splits",
    "partition_feature_name",
    "static_span",
]

#: TFX's ``example_gen_pb2.PayloadFormat`` value and name for serialized ``tf.train.Example``.
FORMAT_TF_EXAMPLE = 6
PAYLOAD_FORMAT = "FORMAT_TF_EXAMPLE"
#: TFX's ``file_format`` custom property for gzipped TFRecord outputs.
FILE_FORMAT = "tfrecords_gzip"

DEFAULT_INPUT_CONFIG: dict[str, Any] = {"splits": [{"name": "single_split", "pattern": "*"}]}


class ExampleGenError(HeadraceError, ValueError):
    """Bad ExampleGen input or configuration. The message names the file, line or split.

    A ``ValueError`` too, as it was before headrace's error base existed."""


@dataclass(frozen=True)
class OutputSplit:
    name: str
    hash_buckets: int


def config_to_dict(value: Any, what: str) -> dict[str, Any] | None:
    """A config given as a dict, a JSON string or a protobuf message, as a plain dict.

    Protobuf messages are converted the way the IR stores them
    (``MessageToDict(preserving_proto_field_name=True)``), so TFX's ``example_gen_pb2`` and
    ``range_config_pb2`` objects are accepted without headrace depending on ``tfx``.
    """
    if value is None:
        return None
    if hasattr(value, "DESCRIPTOR") and hasattr(value, "ListFields"):
        from google.protobuf import json_format

        return dict(json_format.MessageToDict(value, preserving_proto_field_name=True))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise ExampleGenError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(value, Mapping):
        raise ExampleGenError(
            f"{what} must be a dict (TFX's message as JSON) or a protobuf message, "
            f"got {type(value).__name__}"
        )
    return json.loads(json.dumps(value))  # a deep, JSON-clean copy


def input_splits(input_config: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """``(name, pattern)`` of each input split, validated."""
    config = DEFAULT_INPUT_CONFIG if input_config is None else input_config
    splits = config.get("splits")
    if not isinstance(splits, list) or not splits:
        raise ExampleGenError(
            "input_config has no splits: expected {'splits': [{'name', 'pattern'}]}"
        )
    found: list[tuple[str, str]] = []
    for split in splits:
        name = split.get("name") if isinstance(split, Mapping) else None
        pattern = split.get("pattern") if isinstance(split, Mapping) else None
        if not isinstance(name, str) or not name or not isinstance(pattern, str) or not pattern:
            raise ExampleGenError(
                f"input_config split {split!r} needs a non-empty 'name' and 'pattern'"
            )
        _check_split_name(name, "input_config")
        found.append((name, pattern))
    _check_unique([n for n, _ in found], "input_config")
    return found


def default_output_config(input_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """TFX's default: train:eval 2:1 for a single input split, else the input's splits."""
    if len(input_splits(input_config)) > 1:
        return {}
    return {
        "split_config": {
            "splits": [{"name": "train", "hash_buckets": 2}, {"name": "eval", "hash_buckets": 1}]
        }
    }


def output_splits(
    input_config: Mapping[str, Any] | None, output_config: Mapping[str, Any] | None
) -> list[OutputSplit] | None:
    """The hash-partitioned output splits, or None when the output keeps the input's splits."""
    inputs = input_splits(input_config)
    config = default_output_config(input_config) if output_config is None else output_config
    split_config = config.get("split_config") or {}
    splits = split_config.get("splits") if isinstance(split_config, Mapping) else None
    if not splits:
        if partition_feature_name(config):
            raise ExampleGenError(
                "output_config sets partition_feature_name but no split_config.splits"
            )
        return None
    if len(inputs) != 1:
        raise ExampleGenError(
            "output_config.split_config partitions a single input split, but input_config has "
            f"{len(inputs)} ({', '.join(n for n, _ in inputs)}); with several input splits the "
            "output keeps them: leave output_config empty"
        )
    found: list[OutputSplit] = []
    for split in splits:
        name = split.get("name") if isinstance(split, Mapping) else None
        buckets = split.get("hash_buckets") if isinstance(split, Mapping) else None
        if isinstance(buckets, str) and buckets.isdigit():
            buckets = int(buckets)  # MessageToDict writes 64-bit integers as strings
        if not isinstance(name, str) or not name:
            raise ExampleGenError(f"output_config split {split!r} needs a non-empty 'name'")
        if not isinstance(buckets, int) or isinstance(buckets, bool) or buckets <= 0:
            raise ExampleGenError(
                f"output_config split {name!r} needs a positive integer 'hash_buckets', "
                f"got {buckets!r}"
            )
        _check_split_name(name, "output_config")
        found.append(OutputSplit(name, buckets))
    _check_unique([s.name for s in found], "output_config")
    return found


def partition_feature_name(output_config: Mapping[str, Any] | None) -> str | None:
    """``split_config.partition_feature_name`` (TFX's place), or the same key at the top."""
    if not output_config:
        return None
    split_config = output_config.get("split_config") or {}
    name = split_config.get("partition_feature_name") if isinstance(split_config, Mapping) else None
    name = name or output_config.get("partition_feature_name")
    if name is not None and not isinstance(name, str):
        raise ExampleGenError(f"partition_feature_name must be a string, got {name!r}")
    return name or None


def static_span(range_config: Mapping[str, Any] | None) -> int | None:
    """The span a ``{"static_range": {...}}`` range config selects, or None."""
    if not range_config:
        return None
    unknown = set(range_config) - {"static_range"}
    if unknown or "static_range" not in range_config:
        raise ExampleGenError(
            "range_config supports only 'static_range' for ExampleGen, got "
            + ", ".join(sorted(range_config))
        )
    body = range_config["static_range"] or {}
    start = _as_int(body.get("start_span_number", 0), "range_config.static_range.start_span_number")
    end = _as_int(body.get("end_span_number", 0), "range_config.static_range.end_span_number")
    if start != end:
        raise ExampleGenError(
            "range_config.static_range must select one span for ExampleGen: "
            f"start_span_number ({start}) != end_span_number ({end})"
        )
    if start < 0:
        raise ExampleGenError(f"range_config.static_range selects a negative span ({start})")
    return start


def output_data_format(value: Any) -> int:
    """Check ``output_data_format``: only ``FORMAT_TF_EXAMPLE`` (6, as TFX numbers it) is made."""
    if value is None or value in (FORMAT_TF_EXAMPLE, PAYLOAD_FORMAT):
        return FORMAT_TF_EXAMPLE
    raise ExampleGenError(
        f"output_data_format {value!r} is not supported: headrace's ExampleGen writes "
        f"{PAYLOAD_FORMAT} ({FORMAT_TF_EXAMPLE})"
    )


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ExampleGenError(f"{what} must be an integer, got {value!r}")
    return value


def _check_split_name(name: str, where: str) -> None:
    # Split names become directory names (Split-<name>) and enter split_names.
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ExampleGenError(f"{where}: split name {name!r} cannot be used as a directory name")


def _check_unique(names: list[str], where: str) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ExampleGenError(f"{where}: duplicate split name(s) {', '.join(duplicates)}")
