"""TFX's ``bulk_inferrer_pb2`` parameters as checked JSON dicts.

``data_spec``, ``model_spec`` and ``output_example_spec`` arrive as TFX's messages, their JSON
(a string) or dicts of the same shape (``MessageToDict(preserving_proto_field_name=True)``);
each becomes one canonical dict, so every form gives the same IR and cache key. Mistakes are
refused when the pipeline is defined, naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace_core import InvalidComponentArgumentError
from headrace_core.component import check_fields, config_dict

__all__ = [
    "OUTPUT_TYPES",
    "normalize_data_spec",
    "normalize_model_spec",
    "normalize_output_example_spec",
]

#: The oneof of an OutputColumnsSpec, and the fields of each kind.
OUTPUT_TYPES: dict[str, tuple[str, ...]] = {
    "classify_output": ("label_column", "score_column"),
    "regress_output": ("value_column",),
    "predict_output": ("output_columns",),
}


def _as_dict(value: Any, where: str, example: str) -> dict[str, Any]:
    return config_dict(
        value, where, expected=f"a bulk_inferrer_pb2 message or a dict such as {example}"
    )


def _names(value: Any, where: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidComponentArgumentError(f"{where} must be a list of names, got {value!r:.80}")
    if not all(isinstance(v, str) and v for v in value):
        raise InvalidComponentArgumentError(f"{where} must hold non-empty names, got {value!r:.80}")
    if len(set(value)) != len(value):
        raise InvalidComponentArgumentError(f"{where} names one twice: {list(value)!r}")
    return list(value)


def _column(value: Any, where: str) -> str:
    if not (isinstance(value, str) and value):
        raise InvalidComponentArgumentError(f"{where} must be a non-empty name, got {value!r:.80}")
    return value


def normalize_data_spec(value: Any) -> dict[str, Any]:
    """DataSpec: ``example_splits``, the splits to infer on (none: every split, as TFX)."""
    where = "BulkInferrer: data_spec"
    spec = _as_dict({} if value is None else value, where, "{'example_splits': ['unlabelled']}")
    check_fields(spec, ("example_splits",), where)
    splits = _names(spec.get("example_splits", []), f"{where}.example_splits")
    return {"example_splits": splits} if splits else {}


def normalize_model_spec(value: Any) -> dict[str, Any]:
    """ModelSpec: ``model_signature_name`` (none: ``serving_default``; several: one
    multi-head inference) and ``tag`` (none: the SavedModel's serving tag)."""
    where = "BulkInferrer: model_spec"
    spec = _as_dict(
        {} if value is None else value, where, "{'model_signature_name': ['serving_default']}"
    )
    check_fields(spec, ("model_signature_name", "tag"), where)
    result = {}
    for field in ("model_signature_name", "tag"):
        names = _names(spec.get(field, []), f"{where}.{field}")
        if names:
            result[field] = names
    return result


def _output_column(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidComponentArgumentError(
            f"{where} must be a dict with output_key and output_column, got {value!r:.80}"
        )
    check_fields(value, ("output_key", "output_column"), where)
    return {
        "output_key": _column(value.get("output_key"), f"{where}.output_key"),
        "output_column": _column(value.get("output_column"), f"{where}.output_column"),
    }


def _columns_spec(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidComponentArgumentError(f"{where} must be a dict, got {value!r:.80}")
    check_fields(value, ("signature_name", *OUTPUT_TYPES), where)
    kinds = [k for k in OUTPUT_TYPES if k in value]
    if len(kinds) != 1:
        raise InvalidComponentArgumentError(
            f"{where} needs exactly one of {', '.join(OUTPUT_TYPES)}, got "
            f"{', '.join(kinds) or 'none'}"
        )
    [kind] = kinds
    result: dict[str, Any] = {}
    if value.get("signature_name"):
        result["signature_name"] = _column(value["signature_name"], f"{where}.signature_name")
    body = value[kind]
    inner = f"{where}.{kind}"
    if not isinstance(body, Mapping):
        raise InvalidComponentArgumentError(f"{inner} must be a dict, got {body!r:.80}")
    check_fields(body, OUTPUT_TYPES[kind], inner)
    if kind == "predict_output":
        columns = body.get("output_columns")
        if not isinstance(columns, (list, tuple)) or not columns:
            raise InvalidComponentArgumentError(
                f"{inner}.output_columns must list at least one "
                "{'output_key': ..., 'output_column': ...}"
            )
        result[kind] = {
            "output_columns": [
                _output_column(c, f"{inner}.output_columns[{i}]") for i, c in enumerate(columns)
            ]
        }
    else:
        fields = {k: _column(body[k], f"{inner}.{k}") for k in OUTPUT_TYPES[kind] if body.get(k)}
        if not fields:
            raise InvalidComponentArgumentError(
                f"{inner} names no column: set {' or '.join(OUTPUT_TYPES[kind])}"
            )
        result[kind] = fields
    return result


def normalize_output_example_spec(value: Any) -> dict[str, Any] | None:
    """OutputExampleSpec: how predictions become columns of the output examples; None
    (or an empty spec, as TFX's ``if output_example_spec:``) writes PredictionLogs instead."""
    if value is None:
        return None
    where = "BulkInferrer: output_example_spec"
    spec = _as_dict(value, where, "{'output_columns_spec': [{'predict_output': {...}}]}")
    check_fields(spec, ("output_columns_spec",), where)
    entries = spec.get("output_columns_spec") or []
    if not isinstance(entries, (list, tuple)):
        raise InvalidComponentArgumentError(
            f"{where}.output_columns_spec must be a list, got {entries!r:.80}"
        )
    if not entries:
        return None
    specs = [_columns_spec(e, f"{where}.output_columns_spec[{i}]") for i, e in enumerate(entries)]
    signatures = [s.get("signature_name", "") for s in specs]
    if len(set(signatures)) != len(signatures):
        raise InvalidComponentArgumentError(
            f"{where}: two output_columns_spec entries are for the same signature "
            f"({', '.join(repr(s or 'serving_default') for s in signatures)})"
        )
    columns = [
        column
        for s in specs
        for kind, body in s.items()
        if kind != "signature_name"
        for column in (
            [c["output_column"] for c in body["output_columns"]]
            if kind == "predict_output"
            else body.values()
        )
    ]
    if len(set(columns)) != len(columns):
        raise InvalidComponentArgumentError(f"{where} names an output column twice: {columns!r}")
    return {"output_columns_spec": specs}
