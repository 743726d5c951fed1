"""``tfma.EvalConfig`` without importing TFMA: parse, check and normalize it where pipelines are
written.

Importing anything from ``tensorflow_model_analysis`` runs its package ``__init__``, which
imports TensorFlow (7-9 s). The message definitions themselves are plain protobuf: this module
reads the serialized ``config.proto`` descriptor out of TFMA's generated ``config_pb2.py``
(without executing it) into a private descriptor pool, so an ``EvalConfig`` can be parsed
from text format or JSON and validated in milliseconds.
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from headrace_core import InvalidComponentArgumentError
from headrace_core.component import is_proto_class

__all__ = [
    "EVAL_CONFIG_TYPE",
    "MODEL_TYPES",
    "eval_config_class",
    "iter_thresholds",
    "normalize_eval_config",
    "tf_lite_roles",
]

#: The full name of TFMA's EvalConfig message.
EVAL_CONFIG_TYPE = "tensorflow_model_analysis.EvalConfig"
#: ``ModelSpec.model_type`` values TFMA 0.47 knows (``tfma.constants``).
MODEL_TYPES = ("tf_generic", "tf_keras", "tf_estimator", "tf_lite", "tf_js", "tfma_eval")

#: The model type whose model is a ``tflite`` file (TFMA's ``tfma.TF_LITE``).
TF_LITE = "tf_lite"

_CONFIG_MODULE = "tensorflow_model_analysis.proto.config_pb2"
_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]+)"')


def _serialized_file(path: str) -> bytes:
    """The bytes a generated ``*_pb2.py`` passes to ``AddSerializedFile``."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return node.args[0].value
    raise RuntimeError(f"{path} holds no serialized descriptor (AddSerializedFile call)")


@functools.cache
def eval_config_class() -> Any:
    """A message class for ``tensorflow_model_analysis.EvalConfig``.

    TFMA's own class when TFMA is already imported in this process; otherwise one built from
    TFMA's descriptor in a private pool (same fields, same text and JSON formats).
    """
    loaded = sys.modules.get(_CONFIG_MODULE)
    if loaded is not None:
        return loaded.EvalConfig
    spec = importlib.util.find_spec("tensorflow_model_analysis")  # does not run its __init__
    if spec is None or not spec.submodule_search_locations:
        raise InvalidComponentArgumentError(
            "Evaluator: tensorflow-model-analysis is not installed, so eval_config cannot be "
            "read; install headrace-evaluator with its dependencies"
        )
    path = os.path.join(next(iter(spec.submodule_search_locations)), "proto", "config_pb2.py")

    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, wrappers_pb2

    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)
    pool.AddSerializedFile(_serialized_file(path))
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(EVAL_CONFIG_TYPE))


def _field_names(message: Any) -> list[str]:
    return [f.name for f in message.DESCRIPTOR.fields]


def _unknown_field_hint(error: str) -> str:
    """``(did you mean 'metrics_specs'?)`` for protobuf's "has no field named" errors."""
    found = _UNKNOWN_FIELD.search(error)
    if not found:
        return ""
    name = found.group(1)
    names: set[str] = set()
    stack = [eval_config_class().DESCRIPTOR]
    seen = set()
    while stack:
        descriptor = stack.pop()
        if descriptor.full_name in seen:
            continue
        seen.add(descriptor.full_name)
        for field in descriptor.fields:
            names.add(field.name)
            if field.message_type is not None:
                stack.append(field.message_type)
    hint = difflib.get_close_matches(name, sorted(names), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def _parse(value: Any) -> Any:
    """An EvalConfig message from a message, a dict, a JSON string or a text-format string."""
    from google.protobuf import json_format, text_format

    cls = eval_config_class()
    where = "Evaluator: eval_config"
    if is_proto_class(type(value)):
        full_name = value.DESCRIPTOR.full_name
        if full_name != EVAL_CONFIG_TYPE:
            raise InvalidComponentArgumentError(
                f"{where} must be a tfma.EvalConfig, got a {full_name} message"
            )
        # Through JSON: the message may come from TFMA's pool, ours is private.
        value = json_format.MessageToDict(value, preserving_proto_field_name=True)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as e:
                raise InvalidComponentArgumentError(
                    f"{where} is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}"
                ) from None
        else:
            try:
                return text_format.Parse(text, cls())
            except text_format.ParseError as e:
                raise InvalidComponentArgumentError(
                    f"{where} is not a valid EvalConfig in text format: line {e}"
                    + _unknown_field_hint(str(e))
                ) from None
    if isinstance(value, Mapping):
        try:
            return json_format.ParseDict(dict(value), cls())
        except json_format.ParseError as e:
            raise InvalidComponentArgumentError(
                f"{where} is not a valid EvalConfig: {str(e).splitlines()[0]}"
                + _unknown_field_hint(str(e))
            ) from None
    raise InvalidComponentArgumentError(
        f"{where} takes a tfma.EvalConfig, its text format or its JSON (a str or a dict), "
        f"got {type(value).__name__} {value!r:.80}"
    )


def iter_thresholds(config: Any) -> Iterator[tuple[str, str, Any]]:
    """Every threshold of an EvalConfig: ``(where, metric name, MetricThreshold)``.

    ``where`` is the field path, e.g. ``metrics_specs[0].metrics[1].threshold``.
    """
    for i, spec in enumerate(config.metrics_specs):
        for j, metric in enumerate(spec.metrics):
            base = f"metrics_specs[{i}].metrics[{j}]"
            if metric.HasField("threshold"):
                yield f"{base}.threshold", metric.class_name, metric.threshold
            for k, per_slice in enumerate(metric.per_slice_thresholds):
                yield f"{base}.per_slice_thresholds[{k}]", metric.class_name, per_slice.threshold
            for k, cross in enumerate(metric.cross_slice_thresholds):
                yield f"{base}.cross_slice_thresholds[{k}]", metric.class_name, cross.threshold
        for name in sorted(spec.thresholds):
            yield f"metrics_specs[{i}].thresholds[{name!r}]", name, spec.thresholds[name]
        for name in sorted(spec.per_slice_thresholds):
            for k, per_slice in enumerate(spec.per_slice_thresholds[name].thresholds):
                yield (
                    f"metrics_specs[{i}].per_slice_thresholds[{name!r}][{k}]",
                    name,
                    per_slice.threshold,
                )
        for name in sorted(spec.cross_slice_thresholds):
            for k, cross in enumerate(spec.cross_slice_thresholds[name].thresholds):
                yield (
                    f"metrics_specs[{i}].cross_slice_thresholds[{name!r}][{k}]",
                    name,
                    cross.threshold,
                )


def _check(config: Any, metrics_added: bool) -> None:
    where = "Evaluator: eval_config"
    if metrics_added and not config.metrics_specs:
        raise InvalidComponentArgumentError(
            f"{where} has no metrics_specs for the fairness_indicator_thresholds to go into: "
            "add metrics_specs { binarize { class_ids { values: [0, 1] } } } (or any metrics)"
        )
    if not metrics_added and not any(spec.metrics for spec in config.metrics_specs):
        raise InvalidComponentArgumentError(
            f"{where} has no metrics: add metrics_specs {{ metrics {{ class_name: "
            "'SparseCategoricalAccuracy' } } (the Evaluator computes only the metrics it is "
            "given)"
        )
    for i, spec in enumerate(config.metrics_specs):
        for j, metric in enumerate(spec.metrics):
            if not metric.class_name:
                raise InvalidComponentArgumentError(
                    f"{where}: metrics_specs[{i}].metrics[{j}] has no class_name"
                )
    if len(config.model_specs) > 2:
        raise InvalidComponentArgumentError(
            f"{where} has {len(config.model_specs)} model_specs; the Evaluator takes one "
            "(the candidate) or two (candidate and is_baseline)"
        )
    if sum(1 for s in config.model_specs if not s.is_baseline) > 1:
        raise InvalidComponentArgumentError(
            f"{where}: more than one model_spec is a candidate; mark the baseline's "
            "is_baseline: true"
        )
    for i, spec in enumerate(config.model_specs):
        if spec.model_type and spec.model_type not in MODEL_TYPES:
            raise InvalidComponentArgumentError(
                f"{where}: model_specs[{i}].model_type {spec.model_type!r} is not one of "
                f"{', '.join(MODEL_TYPES)}"
            )
    for path, _name, threshold in iter_thresholds(config):
        if threshold.HasField("value_threshold"):
            bounds = threshold.value_threshold
            if (
                bounds.HasField("lower_bound")
                and bounds.HasField("upper_bound")
                and bounds.lower_bound.value > bounds.upper_bound.value
            ):
                raise InvalidComponentArgumentError(
                    f"{where}: {path}.value_threshold: lower_bound {bounds.lower_bound.value} "
                    f"is above upper_bound {bounds.upper_bound.value}"
                )
        if threshold.HasField("change_threshold"):
            change = threshold.change_threshold
            if not (change.HasField("absolute") or change.HasField("relative")):
                raise InvalidComponentArgumentError(
                    f"{where}: {path}.change_threshold sets neither absolute nor relative"
                )
            if change.direction == 0:
                raise InvalidComponentArgumentError(
                    f"{where}: {path}.change_threshold has no direction: set direction: "
                    "HIGHER_IS_BETTER or LOWER_IS_BETTER"
                )


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def normalize_eval_config(value: Any, *, metrics_added: bool = False) -> dict[str, Any]:
    """``eval_config`` in its canonical JSON form (TFX's field names, keys sorted), checked.

    Accepts a ``tfma.EvalConfig``, its text format, its JSON as a string, or a dict. Two
    spellings of the same config give the same dict, so they give the same cache key.
    ``metrics_added``: the executor adds metrics to every metrics spec (Fairness
    Indicators), so a spec without metrics of its own is enough.
    """
    from google.protobuf import json_format

    config = _parse(value)
    _check(config, metrics_added)
    result: dict[str, Any] = _sorted(
        json_format.MessageToDict(config, preserving_proto_field_name=True)
    )
    return result


def tf_lite_roles(config: Mapping[str, Any]) -> dict[str, bool]:
    """Whether the candidate (``model``) and the ``baseline_model`` are TFLite models, from an
    EvalConfig as JSON (field names as in the proto or in camelCase, as TFX writes either).

    Read before TFMA is imported, to check the model directories early. A config without a
    baseline spec gets one copied from the candidate's (TFMA does the same), so the baseline
    has the candidate's model type then.
    """
    specs = config.get("model_specs", config.get("modelSpecs")) or []

    def lite(spec: Mapping[str, Any]) -> bool:
        return spec.get("model_type", spec.get("modelType")) == TF_LITE

    def baseline(spec: Mapping[str, Any]) -> bool:
        return bool(spec.get("is_baseline", spec.get("isBaseline")))

    candidates = [lite(s) for s in specs if not baseline(s)]
    baselines = [lite(s) for s in specs if baseline(s)]
    candidate = bool(candidates) and candidates[0]
    return {"model": candidate, "baseline_model": baselines[0] if baselines else candidate}
