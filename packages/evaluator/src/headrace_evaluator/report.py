"""The Evaluator's readable outputs: ``metrics.json``, ``metrics.html``, ``validation.json``.

Plain JSON and HTML, written by the executor and read back by the ``headrace show`` viewers
without TensorFlow or TFMA. Metric keys, slice keys and thresholds arrive here as the JSON of
TFMA's protos (``json_format.MessageToDict`` with TFX's field names).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from headrace_core.views import render_view

__all__ = [
    "BLESSED_FILE",
    "METRICS_HTML",
    "METRICS_JSON",
    "NOT_BLESSED_FILE",
    "VALIDATION_JSON",
    "describe_failure",
    "describe_threshold",
    "metric_display_name",
    "number",
    "read_json",
    "render_blessing_text",
    "render_evaluation_text",
    "render_html",
    "slice_display_name",
    "write_json",
]

#: In the evaluation artifact, beside TFMA's own files.
METRICS_JSON = "metrics.json"
METRICS_HTML = "metrics.html"
#: In the blessing artifact (with BLESSED or NOT_BLESSED, TFX's marker files).
VALIDATION_JSON = "validation.json"
BLESSED_FILE = "BLESSED"
NOT_BLESSED_FILE = "NOT_BLESSED"

OVERALL = "Overall"


def number(value: Any) -> str:
    """A metric value for people: integers as such, others to six significant digits."""
    if value is None:
        return "-"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def slice_display_name(slice_key: Mapping[str, Any] | None) -> str:
    """``Overall``, ``species=0``, ``a=1, b=x``; a cross slice as ``A vs B``."""
    if not slice_key:
        return OVERALL
    if "baseline" in slice_key and "comparison" in slice_key and len(slice_key) == 2:
        return (
            f"{slice_display_name(slice_key['baseline'])} vs "
            f"{slice_display_name(slice_key['comparison'])}"
        )
    return ", ".join(f"{column}={value}" for column, value in slice_key.items())


def metric_display_name(key: Mapping[str, Any]) -> str:
    """A TFMA MetricKey (as JSON) as one readable name: ``output/name[class_id=1][macro]``."""
    name = str(key.get("name", "?"))
    if key.get("output_name"):
        name = f"{key['output_name']}/{name}"
    sub_key = key.get("sub_key") or {}
    for field in ("class_id", "k", "top_k"):
        if field in sub_key:
            name += f"[{field}={sub_key[field]}]"
    aggregation = key.get("aggregation_type") or {}
    for field, label in (
        ("micro_average", "micro"),
        ("macro_average", "macro"),
        ("weighted_macro_average", "weighted macro"),
    ):
        if aggregation.get(field):
            name += f"[{label}]"
    if key.get("example_weighted") is True:
        name += "[weighted]"
    return name


def describe_threshold(threshold: Mapping[str, Any]) -> str:
    """A TFMA MetricThreshold (as JSON) in words: ``value >= 0.6``, ``change >= 0 (higher is
    better)``."""
    parts = []
    value = threshold.get("value_threshold")
    if value is not None:
        lower, upper = value.get("lower_bound"), value.get("upper_bound")
        if lower is not None and upper is not None:
            parts.append(f"{number(lower)} <= value <= {number(upper)}")
        elif lower is not None:
            parts.append(f"value >= {number(lower)}")
        elif upper is not None:
            parts.append(f"value <= {number(upper)}")
        else:
            parts.append("any value")
    change = threshold.get("change_threshold")
    if change is not None:
        direction = change.get("direction", "")
        op = {"HIGHER_IS_BETTER": ">=", "LOWER_IS_BETTER": "<="}.get(direction, "?")
        words = direction.lower().replace("_", " ") if direction else "no direction"
        bounds = []
        if change.get("absolute") is not None:
            bounds.append(f"change vs baseline {op} {number(change['absolute'])}")
        if change.get("relative") is not None:
            bounds.append(f"relative change vs baseline {op} {number(change['relative'])}")
        parts.append(" and ".join(bounds or ["change vs baseline"]) + f" ({words})")
    return "; ".join(parts) or "(empty threshold)"


def describe_failure(failure: Mapping[str, Any]) -> str:
    """One line: which metric, which slice, the value, the threshold it fails."""
    metric = failure.get("metric", "?")
    where = f"{metric} on slice {failure.get('slice', OVERALL)}"
    value = number(failure.get("value"))
    if failure.get("is_diff"):
        line = f"{where} changed by {value} vs the baseline"
    else:
        line = f"{where} is {value}"
    line += f", failing threshold {failure.get('threshold_text', '?')}"
    if failure.get("message"):
        line += f" ({' '.join(str(failure['message']).split())})"
    return line


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path: str, document: Any) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")


def _model_line(label: str, uri: Any, model_id: Any) -> str:
    if not uri:
        return f"{label}: none"
    return f"{label}: {uri}" + (f" (#{model_id})" if model_id is not None else "")


def _validation_lines(validation: Mapping[str, Any]) -> list[str]:
    lines = []
    verdict = "BLESSED" if validation.get("blessed") else "NOT_BLESSED"
    lines.append(f"{verdict}: {validation.get('reason', '')}".rstrip(": "))
    failures = validation.get("failures") or []
    if failures:
        lines.append(f"failed validations ({len(failures)}):")
        lines.extend(f"  {describe_failure(f)}" for f in failures)
    for spec in validation.get("missing_slices") or []:
        lines.append(f"  no slice matches {spec} (a threshold for it could not be checked)")
    waived = validation.get("waived_change_thresholds") or []
    if waived:
        lines.append(f"waived without a baseline model ({len(waived)}):")
        lines.extend(f"  {w['metric']}: {w['threshold_text']} [{w['where']}]" for w in waived)
    return lines


def blessing_headline(validation: Mapping[str, Any]) -> str:
    """One line for the end of ``headrace run``: the verdict and the first reason."""
    failures = validation.get("failures") or []
    if validation.get("blessed"):
        against = (
            f"no worse than baseline #{validation['baseline_model_id']}"
            if validation.get("baseline_model_id") is not None
            else "first model: change thresholds waived"
        )
        return f"BLESSED ({against})"
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"NOT_BLESSED: {describe_failure(failures[0])}{more}"
    return f"NOT_BLESSED: {validation.get('reason', '')}".rstrip(": ")


def evaluation_headline(document: Mapping[str, Any]) -> str:
    """The overall value of each metric, and how many slices were evaluated."""
    slices = document.get("slices") or []
    overall = next((r for r in slices if r.get("slice", OVERALL) == OVERALL), None)
    if overall is None:
        return "no metrics"
    values = ", ".join(
        f"{m} {number(overall.get('metrics', {}).get(m))}"
        for m in document.get("metric_names") or []
    )
    return f"{values} overall; {len(slices)} slices"


def render_blessing_text(validation: Mapping[str, Any]) -> str:
    lines = [
        _model_line("model", validation.get("model"), validation.get("model_id")),
        _model_line(
            "baseline", validation.get("baseline_model"), validation.get("baseline_model_id")
        ),
    ]
    lines.extend(_validation_lines(validation))
    return "\n".join(lines)


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        out.append("  ".join(cells).rstrip())
    return out


def _cell(row: Mapping[str, Any], metric: str) -> str:
    text = number(row.get("metrics", {}).get(metric))
    if "baseline" in row:
        text += f" (base {number(row['baseline'].get(metric))})"
    return text


def render_evaluation_text(document: Mapping[str, Any]) -> str:
    """The metrics of every slice as a table, then the validation."""
    lines = [
        _model_line("model", document.get("model"), document.get("model_id")),
        _model_line("baseline", document.get("baseline_model"), document.get("baseline_model_id")),
        f"examples: splits {', '.join(document.get('example_splits') or [])}"
        + (f" of {document['examples']}" if document.get("examples") else ""),
    ]
    metrics = list(document.get("metric_names") or [])
    slices = document.get("slices") or []
    if metrics and slices:
        rows = [["slice", *metrics]]
        rows.extend([r.get("slice", OVERALL), *(_cell(r, m) for m in metrics)] for r in slices)
        lines.append("")
        lines.extend(_table(rows))
    else:
        lines.append("no metrics")
    validation = document.get("validation")
    if validation:
        lines.append("")
        lines.extend(_validation_lines(validation))
    return "\n".join(lines)


def render_html(document: Mapping[str, Any], title: str) -> str:
    """One self-contained page (inline CSS, no scripts, no external resources):
    ``templates/metrics.html`` on the core's base page."""
    validation = document.get("validation") or {}
    failing = {(f.get("slice"), f.get("metric")) for f in validation.get("failures") or []}
    metrics = list(document.get("metric_names") or [])
    slices = document.get("slices") or []
    has_baseline = any("baseline" in r for r in slices)
    rows = []
    for row in slices:
        with_baseline = has_baseline and "baseline" in row
        cells = [
            {
                "value": number(row.get("metrics", {}).get(m)),
                "failing": (row.get("slice"), m) in failing,
                "baseline": number(row["baseline"].get(m)) if with_baseline else None,
                "diff": number(row.get("diff", {}).get(m)) if with_baseline else None,
            }
            for m in metrics
        ]
        rows.append({"slice": str(row.get("slice")), "cells": cells})
    shown_validation = validation and {
        "blessed": bool(validation.get("blessed")),
        "reason": str(validation.get("reason", "")),
        "failures": [
            {
                "metric": str(f.get("metric")),
                "slice": str(f.get("slice")),
                "value": number(f.get("value")),
                "is_diff": bool(f.get("is_diff")),
                "threshold_text": str(f.get("threshold_text")),
            }
            for f in validation.get("failures") or []
        ],
        "waived": validation.get("waived_change_thresholds") or [],
    }
    models = [
        (label, document.get(uri_key), document.get(id_key))
        for label, uri_key, id_key in (
            ("model", "model", "model_id"),
            ("baseline", "baseline_model", "baseline_model_id"),
        )
    ]
    return render_view(
        "headrace_evaluator",
        "metrics.html",
        title=title,
        models=models,
        splits=list(document.get("example_splits") or []),
        validation=shown_validation,
        metrics=metrics,
        slices=rows,
    )
