"""PredictionLogs of every kind back into examples (output_example_spec), on hand-built logs:
classify and regress signatures need TF1-style SavedModels, which nothing here exports."""

from __future__ import annotations

from typing import Any

import pytest

from headrace_bulkinferrer import BulkInferrerError, normalize_output_example_spec
from headrace_bulkinferrer.to_examples import prediction_to_example


def _example() -> Any:
    import tensorflow as tf

    return tf.train.Example(
        features=tf.train.Features(
            feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=[1.5]))}
        )
    )


def _values(example: Any) -> dict[str, list[Any]]:
    out = {}
    for name, feature in example.features.feature.items():
        out[name] = list(getattr(feature, feature.WhichOneof("kind")).value)
    return out


def _spec(*entries: dict[str, Any]) -> dict[str, Any]:
    spec = normalize_output_example_spec({"output_columns_spec": list(entries)})
    assert spec is not None
    return spec


def _classification(log_request: Any, result: Any) -> None:
    classes = result.classifications.add()
    for label, score in (("Adelie", 0.75), ("Gentoo", 0.25)):
        classes.classes.add(label=label, score=score)
    log_request.input.example_list.examples.add().CopyFrom(_example())


def test_classify_log() -> None:
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    _classification(log.classify_log.request, log.classify_log.response.result)
    spec = _spec({"classify_output": {"label_column": "label", "score_column": "score"}})
    values = _values(prediction_to_example(log, spec))
    assert values["x"] == [1.5]
    assert values["label"] == [b"Adelie", b"Gentoo"]
    assert values["score"] == [0.75, 0.25]


def test_regress_log() -> None:
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    log.regress_log.request.input.example_list.examples.add().CopyFrom(_example())
    log.regress_log.response.result.regressions.add(value=4.25)
    values = _values(prediction_to_example(log, _spec({"regress_output": {"value_column": "v"}})))
    assert values == {"x": [1.5], "v": [4.25]}


def test_multi_inference_log_goes_by_signature() -> None:
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    multi = log.multi_inference_log
    multi.request.input.example_list.examples.add().CopyFrom(_example())
    first = multi.response.results.add()
    first.model_spec.signature_name = "classify"
    classes = first.classification_result.classifications.add()
    classes.classes.add(label="Adelie", score=0.5)
    second = multi.response.results.add()
    second.model_spec.signature_name = "regress"
    second.regression_result.regressions.add(value=2.0)
    spec = _spec(
        {"signature_name": "classify", "classify_output": {"score_column": "score"}},
        {"signature_name": "regress", "regress_output": {"value_column": "value"}},
    )
    assert _values(prediction_to_example(log, spec)) == {"x": [1.5], "score": [0.5], "value": [2.0]}
    missing = _spec({"signature_name": "classify", "classify_output": {"score_column": "s"}})
    with pytest.raises(BulkInferrerError, match="no entry for signature 'regress'"):
        prediction_to_example(log, missing)


def test_predict_log_squeezes_and_types_columns() -> None:
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    request = log.predict_log.request.inputs["examples"]
    request.CopyFrom(tf.make_tensor_proto([_example().SerializeToString()]))
    outputs = log.predict_log.response.outputs
    outputs["ids"].CopyFrom(tf.make_tensor_proto(np.array([[3]], dtype=np.int64)))
    outputs["name"].CopyFrom(tf.make_tensor_proto(np.array([b"Adelie"])))
    outputs["grid"].CopyFrom(tf.make_tensor_proto(np.zeros((1, 2, 2), dtype=np.float32)))
    columns = [
        {"output_key": "ids", "output_column": "ids"},
        {"output_key": "name", "output_column": "name"},
    ]
    spec = _spec({"predict_output": {"output_columns": columns}})
    assert _values(prediction_to_example(log, spec)) == {
        "x": [1.5],
        "ids": [3],
        "name": [b"Adelie"],
    }
    grid = _spec(
        {"predict_output": {"output_columns": [{"output_key": "grid", "output_column": "g"}]}}
    )
    with pytest.raises(BulkInferrerError, match=r"'grid' has shape \(2, 2\) per example"):
        prediction_to_example(log, grid)
    absent = _spec(
        {"predict_output": {"output_columns": [{"output_key": "nope", "output_column": "n"}]}}
    )
    with pytest.raises(BulkInferrerError, match="output_key 'nope', which the signature does not"):
        prediction_to_example(log, absent)
    wrong_kind = _spec({"regress_output": {"value_column": "v"}})
    with pytest.raises(
        BulkInferrerError,
        match="answers with a predict_log, so output_example_spec needs predict_output",
    ):
        prediction_to_example(log, wrong_kind)
