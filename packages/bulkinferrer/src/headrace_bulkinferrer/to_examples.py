"""A ``PredictionLog`` back into the example it was made from, with the predictions as columns
(``output_example_spec``): TFX's rules, as its BulkInferrer documents them.

- predict: each ``output_columns`` entry takes the output tensor ``output_key``, squeezed to
  one dimension (a scalar becomes one value);
- classify: ``label_column`` gets the class labels, ``score_column`` their scores;
- regress: ``value_column`` gets the regressed value;
- several signatures (a multi-inference log): each result goes by its signature's entry.

Values become ``bytes_list``, ``int64_list`` or ``float_list`` by their type. A column the
example already has is an error: a prediction never overwrites a feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from headrace_bulkinferrer.errors import BulkInferrerError

__all__ = ["DEFAULT_SIGNATURE", "prediction_to_example"]

DEFAULT_SIGNATURE = "serving_default"

Columns = list[tuple[str, list[Any]]]


def _predict_columns(log: Any, body: Mapping[str, Any]) -> tuple[Any, Columns]:
    import numpy as np
    import tensorflow as tf

    # The request holds the serialized example under the signature's one input.
    [tensor] = list(log.request.inputs.values())
    example = tf.train.Example.FromString(tensor.string_val[0])
    columns: Columns = []
    for column in body["output_columns"]:
        key = column["output_key"]
        if key not in log.response.outputs:
            raise BulkInferrerError(
                f"BulkInferrer: output_example_spec names output_key {key!r}, which the "
                f"signature does not return (outputs: {', '.join(sorted(log.response.outputs))})"
            )
        values = np.squeeze(tf.make_ndarray(log.response.outputs[key]))
        if values.ndim > 1:
            raise BulkInferrerError(
                f"BulkInferrer: output {key!r} has shape {values.shape} per example; a column "
                "takes one dimension"
            )
        columns.append((column["output_column"], values.reshape(-1).tolist()))
    return example, columns


def _classify_columns(result: Any, body: Mapping[str, str]) -> Columns:
    classes = result.classifications[0].classes
    columns: Columns = []
    if body.get("label_column"):
        columns.append((body["label_column"], [c.label for c in classes]))
    if body.get("score_column"):
        columns.append((body["score_column"], [c.score for c in classes]))
    return columns


def _only(specs: Sequence[Mapping[str, Any]], kind: str, log: Any) -> Mapping[str, Any]:
    if len(specs) != 1:
        raise BulkInferrerError(
            f"BulkInferrer: a single-signature inference needs exactly one "
            f"output_columns_spec entry, got {len(specs)}"
        )
    if kind not in specs[0]:
        given = next(k for k in specs[0] if k != "signature_name")
        raise BulkInferrerError(
            f"BulkInferrer: the model's signature answers with a {log.WhichOneof('log_type')}, "
            f"so output_example_spec needs {kind}, not {given}"
        )
    return specs[0][kind]


def _multi_columns(log: Any, specs: Sequence[Mapping[str, Any]]) -> tuple[Any, Columns]:
    by_signature = {s.get("signature_name") or DEFAULT_SIGNATURE: s for s in specs}
    example = log.request.input.example_list.examples[0]
    columns: Columns = []
    for result in log.response.results:
        name = result.model_spec.signature_name or DEFAULT_SIGNATURE
        spec = by_signature.get(name)
        if spec is None:
            raise BulkInferrerError(
                f"BulkInferrer: output_example_spec has no entry for signature {name!r}"
            )
        if result.HasField("classification_result") and "classify_output" in spec:
            columns += _classify_columns(result.classification_result, spec["classify_output"])
        elif result.HasField("regression_result") and "regress_output" in spec:
            value = result.regression_result.regressions[0].value
            columns.append((spec["regress_output"]["value_column"], [value]))
        else:
            raise BulkInferrerError(
                f"BulkInferrer: signature {name!r} returned a {result.WhichOneof('result')}, "
                f"which its output_columns_spec entry does not map"
            )
    return example, columns


def prediction_to_example(log: Any, spec: Mapping[str, Any]) -> Any:
    """The ``tf.train.Example`` of ``log`` (a PredictionLog) with the prediction columns of
    ``spec`` (a normalized output_example_spec) added."""
    import tensorflow as tf

    specs = spec["output_columns_spec"]
    kind = log.WhichOneof("log_type")
    if kind == "multi_inference_log":
        example, columns = _multi_columns(log.multi_inference_log, specs)
    elif kind == "predict_log":
        example, columns = _predict_columns(log.predict_log, _only(specs, "predict_output", log))
    elif kind == "classify_log":
        body = _only(specs, "classify_output", log)
        example = log.classify_log.request.input.example_list.examples[0]
        columns = _classify_columns(log.classify_log.response.result, body)
    elif kind == "regress_log":
        body = _only(specs, "regress_output", log)
        example = log.regress_log.request.input.example_list.examples[0]
        value = log.regress_log.response.result.regressions[0].value
        columns = [(body["value_column"], [value])]
    else:
        raise BulkInferrerError(f"BulkInferrer: cannot turn a {kind} into an example")
    out = tf.train.Example()
    out.CopyFrom(example)
    features = out.features.feature
    for name, values in columns:
        if name in features:
            raise BulkInferrerError(
                f"BulkInferrer: output column {name!r} is already a feature of the examples; "
                "name the prediction column differently in output_example_spec"
            )
        if not values:
            features[name].float_list.value[:] = []
        elif isinstance(values[0], (bytes, str)):
            features[name].bytes_list.value[:] = [
                v.encode("utf-8") if isinstance(v, str) else v for v in values
            ]
        elif isinstance(values[0], int) and not isinstance(values[0], bool):
            features[name].int64_list.value[:] = values
        else:
            features[name].float_list.value[:] = [float(v) for v in values]
    return out
