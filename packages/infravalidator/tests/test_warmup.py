"""``request_spec.make_warmup`` on a real SavedModel and the penguin examples: a blessed model
is copied into the blessing with its canary requests as TF Serving's warm-up file, which reads
back as PredictionLogs that the copy, loaded by TensorFlow, answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infravalidator_testing import examples_artifact, model_artifact

from headrace_core import InfraBlessing
from headrace_infravalidator.specs import normalize_request_spec

SERVING = {"tensorflow_serving": {"tags": ["latest"]}, "local_docker": {}}
WARMUP = normalize_request_spec({"tensorflow_serving": {}, "num_examples": 3, "make_warmup": True})
WARMUP_FILE = Path("stamped_model") / "assets.extra" / "tf_serving_warmup_requests"


def _validate(out: Path, model: Path, examples: Path, **properties: Any) -> InfraBlessing:
    from headrace_core.executor import ExecutorContext
    from headrace_infravalidator.executor import Executor

    blessing = InfraBlessing(str(out / "blessing"), id=9)
    inputs: dict[str, list[Any]] = {
        "model": [model_artifact(model)],
        "examples": [examples_artifact(examples)],
    }
    exec_properties = {"serving_spec": SERVING, "validation_spec": {}, **properties}
    (out / "tmp").mkdir(parents=True, exist_ok=True)
    Executor(ExecutorContext(tmp_dir=str(out / "tmp"))).Do(
        inputs, {"blessing": [blessing]}, exec_properties
    )
    return blessing


def _read_logs(path: Path) -> list[Any]:
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    return [
        prediction_log_pb2.PredictionLog.FromString(bytes(r.numpy()))
        for r in tf.data.TFRecordDataset(str(path))
    ]


def _eval_masses(examples: Path, count: int) -> list[float]:
    """body_mass_g of the first ``count`` examples of the eval split, read directly."""
    import tensorflow as tf

    files = sorted(str(p) for p in (examples / "Split-eval").iterdir())
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").take(count)
    return [
        tf.train.Example.FromString(bytes(r.numpy()))
        .features.feature["body_mass_g"]
        .float_list.value[0]
        for r in dataset
    ]


def test_a_blessed_model_is_stamped_with_its_canaries(
    tmp_path: Path, models: dict[str, Path], examples: Path
) -> None:
    import tensorflow as tf

    blessing = _validate(tmp_path, models["good"], examples, request_spec=WARMUP)
    assert blessing.get_custom_property("blessed") == 1
    assert blessing.get_custom_property("has_model") == 1
    uri = Path(blessing.uri)
    # Nothing left of the temporary copy; the source model is untouched.
    assert sorted(p.name for p in uri.iterdir()) == [
        "INFRA_BLESSED",
        "infra_validation.json",
        "stamped_model",
    ]
    assert not (models["good"] / "Format-Serving" / "assets.extra").exists()
    report = json.loads((uri / "infra_validation.json").read_text())
    assert report["stamped_model"] == {
        "path": "stamped_model",
        "warmup_file": "assets.extra/tf_serving_warmup_requests",
        "warmup_requests": 3,
    }

    logs = _read_logs(uri / WARMUP_FILE)
    assert [entry.WhichOneof("log_type") for entry in logs] == ["predict_log"] * 3
    masses = []
    for entry in logs:
        request = entry.predict_log.request
        assert request.model_spec.name == "infra-validation-model"
        assert request.model_spec.signature_name == "serving_default"
        assert list(request.inputs) == ["examples"]
        tensor = request.inputs["examples"]
        assert tf.dtypes.as_dtype(tensor.dtype) == tf.string
        assert [d.size for d in tensor.tensor_shape.dim] == [1]
        [record] = tensor.string_val
        example = tf.train.Example.FromString(record)
        masses.append(example.features.feature["body_mass_g"].float_list.value[0])
    assert masses == _eval_masses(examples, 3)

    # TensorFlow's loader takes the copy, and it answers the warm-up requests as TF Serving
    # would replay them.
    loaded = tf.saved_model.load(str(uri / "stamped_model"))
    serve = loaded.signatures["serving_default"]
    records = [entry.predict_log.request.inputs["examples"].string_val[0] for entry in logs]
    kg = serve(examples=tf.constant(records))["kg"].numpy().ravel().tolist()
    assert kg == pytest.approx([2.0 * m for m in masses])


def test_the_model_name_of_the_serving_spec_is_used(
    tmp_path: Path, models: dict[str, Path], examples: Path
) -> None:
    spec = normalize_request_spec({"tensorflow_serving": {}, "make_warmup": True})
    blessing = _validate(
        tmp_path,
        models["good"],
        examples,
        request_spec=spec,
        serving_spec={**SERVING, "model_name": "penguin"},
    )
    [entry] = _read_logs(Path(blessing.uri) / WARMUP_FILE)
    assert entry.predict_log.request.model_spec.name == "penguin"


def test_a_model_that_is_not_blessed_is_not_stamped(
    tmp_path: Path, models: dict[str, Path], examples: Path
) -> None:
    blessing = _validate(
        tmp_path, models["corrupt"], examples, request_spec=WARMUP, validation_spec={"num_tries": 1}
    )
    assert blessing.get_custom_property("blessed") == 0
    assert blessing.get_custom_property("has_model") is None
    assert sorted(p.name for p in Path(blessing.uri).iterdir()) == [
        "INFRA_NOT_BLESSED",
        "infra_validation.json",
    ]


def test_without_make_warmup_nothing_is_stamped(
    tmp_path: Path, models: dict[str, Path], examples: Path
) -> None:
    spec = normalize_request_spec({"tensorflow_serving": {}, "num_examples": 3})
    blessing = _validate(tmp_path, models["good"], examples, request_spec=spec)
    assert blessing.get_custom_property("blessed") == 1
    assert blessing.get_custom_property("has_model") is None
    assert not (Path(blessing.uri) / "stamped_model").exists()


def test_a_failed_write_leaves_no_half_model(tmp_path: Path, models: dict[str, Path]) -> None:
    from headrace_infravalidator.warmup import write_stamped_model

    class Unwritable:
        def SerializeToString(self) -> bytes:
            raise OSError("disk full")

    blessing = tmp_path / "blessing"
    with pytest.raises(OSError, match="disk full"):
        write_stamped_model(str(models["good"] / "Format-Serving"), str(blessing), [Unwritable()])
    assert list(blessing.iterdir()) == []
