"""TFX's deprecated ``feature_slicing_spec`` as eval-config slicing specs, and the check that
every column the slicing specs name is in the data.

Light (no TFMA): the component normalizes the parameter, the executor merges it into TFMA's
config message and checks the columns before Beam starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from headrace_core import InvalidComponentArgumentError
from headrace_core.component import check_fields, config_dict, is_proto_class

__all__ = [
    "FEATURE_SLICING_SPEC_TYPE",
    "SCAN_LIMIT",
    "add_feature_slices",
    "data_columns",
    "normalize_feature_slicing_spec",
    "slicing_columns",
    "unknown_slicing_columns",
]

#: The full name of TFX's ``evaluator_pb2.FeatureSlicingSpec``.
FEATURE_SLICING_SPEC_TYPE = "tfx.components.evaluator.FeatureSlicingSpec"
_WHERE = "Evaluator: feature_slicing_spec"


def normalize_feature_slicing_spec(value: Any) -> dict[str, Any] | None:
    """``{"specs": [{"column_for_slicing": [...]}, ...]}`` from TFX's message, its JSON or a
    dict of the same shape; checked, so two spellings give one IR."""
    if value is None:
        return None
    if is_proto_class(type(value)) and value.DESCRIPTOR.full_name != FEATURE_SLICING_SPEC_TYPE:
        raise InvalidComponentArgumentError(
            f"{_WHERE} must be an evaluator_pb2.FeatureSlicingSpec, got a "
            f"{value.DESCRIPTOR.full_name} message"
        )
    spec = config_dict(
        value,
        _WHERE,
        expected="an evaluator_pb2.FeatureSlicingSpec, its JSON or a dict such as "
        "{'specs': [{'column_for_slicing': ['species']}]}",
    )
    check_fields(spec, ["specs"], _WHERE)
    specs = spec.get("specs") or []
    if not isinstance(specs, list):
        raise InvalidComponentArgumentError(f"{_WHERE}: specs must be a list, got {specs!r:.80}")
    result = []
    for i, single in enumerate(specs):
        where = f"{_WHERE}.specs[{i}]"
        if not isinstance(single, Mapping):
            raise InvalidComponentArgumentError(
                f"{where} must be a SingleSlicingSpec (a dict), got {single!r:.80}"
            )
        check_fields(single, ["column_for_slicing"], where)
        columns = single.get("column_for_slicing") or []
        if isinstance(columns, str) or not all(isinstance(c, str) and c for c in columns):
            raise InvalidComponentArgumentError(
                f"{where}.column_for_slicing must be a list of column names, got {columns!r:.80}"
            )
        if len(set(columns)) != len(columns):
            raise InvalidComponentArgumentError(
                f"{where}.column_for_slicing names a column twice: {list(columns)}"
            )
        result.append({"column_for_slicing": list(columns)} if columns else {})
    return {"specs": result}


def _key(spec: Any) -> str:
    from google.protobuf import json_format

    data = json_format.MessageToDict(spec, preserving_proto_field_name=True)
    return json.dumps(data, sort_keys=True)


def add_feature_slices(config: Any, feature_slicing_spec: Mapping[str, Any]) -> list[list[str]]:
    """Append each of the spec's slices to the EvalConfig message ``config`` (in place) as a
    ``slicing_specs { feature_keys: ... }``, plus the overall slice, skipping those already
    there, as TFX turns them into TFMA slice specs; the column lists added."""
    wanted = [list(s.get("column_for_slicing") or []) for s in feature_slicing_spec["specs"]]
    if [] not in wanted:
        wanted.append([])  # TFX always evaluates the overall slice too
    existing = {_key(s) for s in config.slicing_specs}
    added = []
    for columns in wanted:
        key = json.dumps({"feature_keys": columns} if columns else {}, sort_keys=True)
        if key not in existing:
            config.slicing_specs.add(feature_keys=columns)
            existing.add(key)
            added.append(columns)
    return added


def slicing_columns(config: Any) -> list[tuple[str, str]]:
    """``(where, column)`` for every column a slicing spec names (cross slices included);
    SQL slicing is not looked into."""
    found: list[tuple[str, str]] = []

    def of(spec: Any, where: str) -> None:
        found.extend((f"{where}.feature_keys", c) for c in spec.feature_keys)
        found.extend((f"{where}.feature_values", c) for c in sorted(spec.feature_values))

    for i, spec in enumerate(config.slicing_specs):
        of(spec, f"slicing_specs[{i}]")
    for i, cross in enumerate(config.cross_slicing_specs):
        of(cross.baseline_spec, f"cross_slicing_specs[{i}].baseline_spec")
        for j, spec in enumerate(cross.slicing_specs):
            of(spec, f"cross_slicing_specs[{i}].slicing_specs[{j}]")
    return found


def unknown_slicing_columns(
    columns: Sequence[tuple[str, str]], known: Iterable[str]
) -> list[tuple[str, str]]:
    """Those of ``columns`` not among ``known``, in order."""
    names = set(known)
    return [(where, column) for where, column in columns if column not in names]


#: How many examples are read for their feature names when there is no schema.
SCAN_LIMIT = 10_000


def _is_gzip(path: str) -> bool:
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "rb") as f:
        return bool(f.read(2) == b"\x1f\x8b")


def data_columns(patterns: Mapping[str, str], schema: Any) -> tuple[set[str], bool, str]:
    """The examples' feature names: ``(names, complete, where they come from)``.

    From the schema when there is one. Otherwise from the features the examples themselves
    hold, reading at most :data:`SCAN_LIMIT` of them; ``complete`` is False when it stopped
    before the end, so a column only later examples have may exist.
    """
    if schema is not None:
        names = {f.name for f in schema.feature}
        names |= {f.name for f in schema.sparse_feature}
        names |= {f.name for f in schema.weighted_feature}
        return names, True, "the schema"
    import tensorflow as tf

    names = set()
    seen = 0
    for pattern in patterns.values():
        for path in sorted(tf.io.gfile.glob(pattern)):
            compression = "GZIP" if _is_gzip(path) else ""
            for record in tf.data.TFRecordDataset(path, compression_type=compression):
                if seen >= SCAN_LIMIT:
                    return names, False, f"the first {SCAN_LIMIT} examples"
                names.update(tf.train.Example.FromString(record.numpy()).features.feature)
                seen += 1
    return names, True, f"the {seen} examples of {', '.join(patterns)}"
