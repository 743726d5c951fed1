"""The executor on the real penguin data with a model whose predictions are known exactly:
PredictionLogs, examples with prediction columns, split selection, the blessing gate and the
errors that name what is at fault."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytest
from bulkinferrer_testing import FEATURES, PenguinData, blessing, expected_logits, read_records

from headrace_bulkinferrer import BulkInferrerError, normalize_output_example_spec
from headrace_core import Examples, InferenceResult, Model

PREDICT_SPEC = {
    "output_columns_spec": [
        {
            "predict_output": {
                "output_columns": [{"output_key": "logits", "output_column": "logits"}]
            }
        }
    ]
}
SCORES_SPEC = {
    "output_columns_spec": [
        {
            "signature_name": "scores",
            "predict_output": {
                "output_columns": [
                    {"output_key": "probabilities", "output_column": "probabilities"},
                    {"output_key": "class_id", "output_column": "predicted_species"},
                ]
            },
        }
    ]
}


def _run(
    out: Path, data: PenguinData, *, examples_out: bool = False, **properties: Any
) -> tuple[dict[str, list[Any]], Any]:
    from headrace_bulkinferrer.executor import Executor

    inputs: dict[str, list[Any]] = {
        "examples": [data.examples_artifact()],
        "model": [data.model_artifact()],
    }
    if "blessing" in properties:
        inputs["model_blessing"] = [properties.pop("blessing")]
    if examples_out:
        output: Any = Examples(str(out / "output_examples"), id=11)
        outputs = {"output_examples": [output]}
    else:
        output = InferenceResult(str(out / "inference_result"), id=11)
        outputs = {"inference_result": [output]}
    Path(output.uri).mkdir(parents=True)
    exec_properties = {"data_spec": {}, "model_spec": {}, **properties}
    Executor().Do(inputs, outputs, exec_properties)
    return inputs, output


def _feature(example: Any, name: str) -> list[Any]:
    feature = example.features.feature[name]
    return list(getattr(feature, feature.WhichOneof("kind")).value)


def _key(example: Any) -> tuple[float, ...]:
    return tuple(_feature(example, name)[0] for name in FEATURES)


def _rows_by_key(rows: list[dict[str, str]]) -> dict[tuple[float, ...], dict[str, str]]:
    import numpy as np

    # float32, as the examples hold them.
    return {tuple(float(np.float32(r[n])) for n in FEATURES): r for r in rows}


def _logits_of(log: Any) -> tuple[Any, list[float]]:
    import tensorflow as tf

    [request] = list(log.predict_log.request.inputs.values())
    example = tf.train.Example.FromString(request.string_val[0])
    logits = tf.make_ndarray(log.predict_log.response.outputs["logits"]).reshape(-1).tolist()
    return example, logits


def test_prediction_logs_for_every_split(penguin: PenguinData, tmp_path: Path) -> None:
    from tensorflow_serving.apis import prediction_log_pb2

    _, result = _run(tmp_path, penguin)
    logs = read_records(Path(result.uri), "prediction_logs-*.gz", prediction_log_pb2.PredictionLog)
    rows = _rows_by_key(penguin.rows["train"] + penguin.rows["eval"])
    assert len(logs) == len(rows) == 334
    seen = set()
    for log in logs:
        assert log.WhichOneof("log_type") == "predict_log"
        assert log.predict_log.request.model_spec.signature_name == "serving_default"
        example, logits = _logits_of(log)
        row = rows[_key(example)]
        assert all(
            math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-5)
            for a, b in zip(logits, expected_logits(row), strict=True)
        ), (logits, row)
        seen.add(_key(example))
    assert seen == set(rows)


def test_data_spec_selects_splits(penguin: PenguinData, tmp_path: Path) -> None:
    from tensorflow_serving.apis import prediction_log_pb2

    _, result = _run(tmp_path, penguin, data_spec={"example_splits": ["eval"]})
    logs = read_records(Path(result.uri), "prediction_logs-*.gz", prediction_log_pb2.PredictionLog)
    assert {_key(_logits_of(log)[0]) for log in logs} == set(_rows_by_key(penguin.rows["eval"]))


def test_output_examples_carry_the_predictions(penguin: PenguinData, tmp_path: Path) -> None:
    import numpy as np
    import tensorflow as tf

    _, output = _run(
        tmp_path,
        penguin,
        examples_out=True,
        data_spec='{"example_splits": ["eval", "train"]}',  # TFX's JSON string
        model_spec={"model_signature_name": ["scores"]},
        output_example_spec=normalize_output_example_spec(SCORES_SPEC),
    )
    assert output.get_property("split_names") == '["eval", "train"]'
    assert output.get_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    for split in ("train", "eval"):
        examples = read_records(
            Path(output.uri) / f"Split-{split}", "examples-*.gz", tf.train.Example
        )
        rows = _rows_by_key(penguin.rows[split])
        assert len(examples) == len(rows)
        for example in examples:
            row = rows[_key(example)]
            # The input features stay, label included; the predictions are added.
            assert _feature(example, "species") == [int(row["species"])]
            logits = np.array(expected_logits(row))
            softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
            assert np.allclose(_feature(example, "probabilities"), softmax, atol=1e-5)
            assert _feature(example, "predicted_species") == [int(np.argmax(logits))]


def test_a_model_that_is_not_blessed_is_not_run(
    penguin: PenguinData, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        _, result = _run(tmp_path, penguin, blessing=blessing(tmp_path / "b", blessed=False))
    assert list(Path(result.uri).iterdir()) == []
    assert "not inferring: model" in caplog.text and "was not blessed" in caplog.text
    _, blessed = _run(tmp_path / "ok", penguin, blessing=blessing(tmp_path / "b2", blessed=True))
    assert list(Path(blessed.uri).glob("prediction_logs-*.gz"))


def test_errors_name_what_is_wrong(penguin: PenguinData, tmp_path: Path) -> None:
    from headrace_bulkinferrer.executor import Executor

    with pytest.raises(
        BulkInferrerError, match=r"'test', which examples .* \(splits: train, eval\)"
    ):
        _run(tmp_path / "a", penguin, data_spec={"example_splits": ["test"]})
    with pytest.raises(BulkInferrerError, match=r"has no signature 'predict'.*serving_default"):
        _run(tmp_path / "b", penguin, model_spec={"model_signature_name": ["predict"]})
    with pytest.raises(BulkInferrerError, match="input 'model' is empty"):
        Executor().Do(
            {"examples": [penguin.examples_artifact()]},
            {"inference_result": [InferenceResult(str(tmp_path / "c"))]},
            {"data_spec": {}, "model_spec": {}},
        )
    with pytest.raises(BulkInferrerError, match=r"holds no SavedModel: no saved_model.pb"):
        Executor().Do(
            {"examples": [penguin.examples_artifact()], "model": [Model(str(tmp_path))]},
            {"inference_result": [InferenceResult(str(tmp_path / "d"))]},
            {"data_spec": {}, "model_spec": {}},
        )
    with pytest.raises(BulkInferrerError, match="do not match its parameters"):
        _run(tmp_path / "e", penguin, output_example_spec=PREDICT_SPEC)
    (tmp_path / "empty" / "Split-train").mkdir(parents=True)
    empty = Examples(str(tmp_path / "empty"), properties={"split_names": '["train"]'})
    with pytest.raises(BulkInferrerError, match=r"split 'train' of examples .* has no files"):
        Executor().Do(
            {"examples": [empty], "model": [penguin.model_artifact()]},
            {"inference_result": [InferenceResult(str(tmp_path / "f"))]},
            {"data_spec": {}, "model_spec": {}},
        )


def test_a_prediction_column_never_overwrites_a_feature(
    penguin: PenguinData, tmp_path: Path
) -> None:
    clash = {
        "output_columns_spec": [
            {
                "predict_output": {
                    "output_columns": [{"output_key": "logits", "output_column": "species"}]
                }
            }
        ]
    }
    with pytest.raises(Exception, match="'species' is already a feature of the examples"):
        _run(tmp_path, penguin, examples_out=True, output_example_spec=clash)
