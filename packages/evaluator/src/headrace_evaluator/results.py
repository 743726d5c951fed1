"""TFMA's results as the Evaluator's JSON: metric rows per slice and validation failures.

Reads the protos ``tfma.load_metrics`` and ``tfma.load_validation_result`` return; imports
nothing of TFMA itself.
"""

from __future__ import annotations

import json
import math
from typing import Any

from headrace_evaluator.report import describe_threshold, metric_display_name, slice_display_name

__all__ = ["failures_of", "message_json", "metrics_rows"]


def message_json(message: Any) -> dict[str, Any]:
    """A proto as JSON with TFX's (the .proto's) field names."""
    from google.protobuf import json_format

    result: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return result


def _slice_key(proto: Any) -> dict[str, Any]:
    key: dict[str, Any] = {}
    for single in proto.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else None
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        key[single.column] = value
    return key


def _slice_of(message: Any) -> dict[str, Any]:
    """The slice key of a MetricsForSlice or MetricsValidationForSlice, as JSON."""
    # A oneof in MetricsForSlice, two plain fields in MetricsValidationForSlice.
    if message.HasField("cross_slice_key"):
        cross = message.cross_slice_key
        return {
            "baseline": _slice_key(cross.baseline_slice_key),
            "comparison": _slice_key(cross.comparison_slice_key),
        }
    return _slice_key(message.slice_key)


_SCALAR_KINDS = ("double_value", "bounded_value")


def _scalar(value: Any) -> float | None:
    """A metric value as a float; None for NaN, infinities and non-scalar values."""
    kind = value.WhichOneof("type")
    if kind == "double_value":
        number = float(value.double_value.value)
    elif kind == "bounded_value":
        number = float(value.bounded_value.value.value)
    else:
        return None
    return number if math.isfinite(number) else None


def _display_key(key: Any) -> str:
    data = message_json(key)
    data.pop("model_name", None)
    data.pop("is_diff", None)
    return metric_display_name(data)


def metrics_rows(
    metrics: list[Any], candidate: str, baseline: str | None
) -> tuple[list[str], list[dict[str, Any]]]:
    names: set[str] = set()
    rows = []
    for for_slice in metrics:
        row: dict[str, Any] = {"slice_key": _slice_of(for_slice), "metrics": {}}
        row["slice"] = slice_display_name(row["slice_key"])
        if baseline is not None:
            row["baseline"], row["diff"] = {}, {}
        for entry in for_slice.metric_keys_and_values:
            if entry.value.WhichOneof("type") not in _SCALAR_KINDS:
                continue  # plots, matrices, arrays: in TFMA's own files
            key = entry.key
            if key.is_diff:
                target = row.get("diff")
            elif key.model_name == candidate:
                target = row["metrics"]
            elif baseline is not None and key.model_name == baseline:
                target = row["baseline"]
            else:
                target = None
            if target is None:
                continue
            name = _display_key(key)
            value = _scalar(entry.value)
            target[name] = value
            names.add(name)
        rows.append(row)
    # Overall first, then slices by name: the same order on every run.
    rows.sort(key=lambda r: (bool(r["slice_key"]), r["slice"]))
    return sorted(names), rows


def failures_of(result: Any) -> tuple[list[dict[str, Any]], list[str]]:
    failures = []
    for per_slice in result.metric_validations_per_slice:
        slice_key = _slice_of(per_slice)
        for failure in per_slice.failures:
            threshold = message_json(failure.metric_threshold)
            entry = {
                "metric": _display_key(failure.metric_key),
                "metric_key": message_json(failure.metric_key),
                "slice": slice_display_name(slice_key),
                "slice_key": slice_key,
                "is_diff": bool(failure.metric_key.is_diff),
                "value": _scalar(failure.metric_value),
                "threshold": threshold,
                "threshold_text": describe_threshold(threshold),
            }
            if failure.message.strip():
                entry["message"] = " ".join(failure.message.split())
            failures.append(entry)
    # TFMA's order depends on Beam's; the rows' order (Overall first, then by slice) does not.
    failures.sort(key=lambda f: (bool(f["slice_key"]), f["slice"], f["metric"], f["is_diff"]))
    missing = [
        json.dumps(message_json(spec), sort_keys=True)
        for spec in (*result.missing_slices, *result.missing_cross_slices)
    ]
    return failures, missing
