"""``request_spec.make_warmup``: a copy of the blessed model with its canary requests as TF
Serving's warm-up file, inside the blessing, where TFX's Pusher looks for it.

Layout and names are TFX's: ``<blessing.uri>/stamped_model/`` holds the SavedModel with
``assets.extra/tf_serving_warmup_requests`` (a TFRecord file of
``tensorflow_serving.apis.prediction_log_pb2.PredictionLog``), and the blessing's custom
property ``has_model`` is 1. Imported only by the executor (TensorFlow, TF Serving's protos).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

from headrace_infravalidator.errors import InfraValidatorError
from headrace_infravalidator.specs import MAX_WARMUP_RECORDS

__all__ = [
    "DEFAULT_MODEL_NAME",
    "STAMPED_MODEL_DIR",
    "WARMUP_FILE",
    "prediction_logs",
    "write_stamped_model",
]

log = logging.getLogger(__name__)

STAMPED_MODEL_DIR = "stamped_model"
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
#: The ``model_spec.name`` of each request when ``serving_spec.model_name`` is unset (TFX's).
DEFAULT_MODEL_NAME = "infra-validation-model"

_PREDICT = "tensorflow/serving/predict"
_CLASSIFY = "tensorflow/serving/classify"
_REGRESS = "tensorflow/serving/regress"


def _signature_defs(model_path: str, tag_set: Sequence[str]) -> Any:
    """The ``signature_def`` map of the meta graph tagged ``tag_set``, from ``saved_model.pb``:
    the method name (predict, classify, regress) decides the request type TF Serving replays,
    and a loaded ``tf.saved_model`` object does not expose it."""
    from tensorflow.core.protobuf import saved_model_pb2

    with open(os.path.join(model_path, "saved_model.pb"), "rb") as f:
        saved_model = saved_model_pb2.SavedModel.FromString(f.read())
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == set(tag_set):
            return meta_graph.signature_def
    raise InfraValidatorError(
        f"InfraValidator: make_warmup: {model_path} has no meta graph tagged {list(tag_set)}"
    )


def prediction_logs(
    model_path: str,
    tag_set: Sequence[str],
    signature_names: Sequence[str],
    records: Sequence[bytes],
    model_name: str,
) -> list[Any]:
    """One PredictionLog per canary example and signature, as TFX builds its requests:
    PredictRequest with the serialized example in the signature's one string input,
    ClassificationRequest or RegressionRequest with the example itself."""
    import tensorflow as tf
    from tensorflow_serving.apis import (
        classification_pb2,
        predict_pb2,
        prediction_log_pb2,
        regression_pb2,
    )

    signatures = _signature_defs(model_path, tag_set)
    logs = []
    for name in signature_names:
        if name not in signatures:
            raise InfraValidatorError(
                f"InfraValidator: make_warmup: {model_path} has no signature {name!r} "
                f"(signatures: {', '.join(sorted(signatures)) or 'none'})"
            )
        signature = signatures[name]
        method = signature.method_name
        if method not in (_PREDICT, _CLASSIFY, _REGRESS):
            raise InfraValidatorError(
                f"InfraValidator: make_warmup: signature {name!r} of {model_path} has "
                f"method {method!r}; TF Serving warms up predict, classify and regress"
            )
        for record in records:
            request: Any
            if method == _PREDICT:
                [key] = list(signature.inputs)  # the canary request already needed exactly one
                request = predict_pb2.PredictRequest()
                request.inputs[key].CopyFrom(tf.make_tensor_proto([record]))
            elif method == _CLASSIFY:
                request = classification_pb2.ClassificationRequest()
                request.input.example_list.examples.add().ParseFromString(record)
            else:
                request = regression_pb2.RegressionRequest()
                request.input.example_list.examples.add().ParseFromString(record)
            request.model_spec.name = model_name
            request.model_spec.signature_name = name
            # The wrappers copy the request, so it is complete before it is wrapped.
            if method == _PREDICT:
                entry = prediction_log_pb2.PredictionLog(
                    predict_log=prediction_log_pb2.PredictLog(request=request)
                )
            elif method == _CLASSIFY:
                entry = prediction_log_pb2.PredictionLog(
                    classify_log=prediction_log_pb2.ClassifyLog(request=request)
                )
            else:
                entry = prediction_log_pb2.PredictionLog(
                    regress_log=prediction_log_pb2.RegressLog(request=request)
                )
            logs.append(entry)
    if len(logs) > MAX_WARMUP_RECORDS:
        raise InfraValidatorError(
            f"InfraValidator: make_warmup: {len(logs)} warm-up requests (num_examples x "
            f"signatures); TF Serving reads at most {MAX_WARMUP_RECORDS}"
        )
    return logs


def write_stamped_model(model_path: str, blessing_uri: str, logs: Sequence[Any]) -> str:
    """Copy the SavedModel to ``<blessing_uri>/stamped_model`` with the warm-up file; returns
    that path.

    Built beside it under a temporary name and renamed into place, so ``stamped_model`` is
    either whole or absent, even for a reader of a blessing written outside the runtime's
    staging (a direct executor call, a TFX orchestrator).
    """
    import tensorflow as tf

    final = os.path.join(blessing_uri, STAMPED_MODEL_DIR)
    os.makedirs(blessing_uri, exist_ok=True)
    partial = tempfile.mkdtemp(prefix=f".{STAMPED_MODEL_DIR}-", dir=blessing_uri)
    try:
        copy = os.path.join(partial, "model")
        shutil.copytree(model_path, copy)
        warmup = os.path.join(copy, WARMUP_FILE)
        if os.path.exists(warmup):
            log.info("InfraValidator: replacing the warm-up file %s came with", model_path)
        os.makedirs(os.path.dirname(warmup), exist_ok=True)
        with tf.io.TFRecordWriter(warmup) as writer:
            for entry in logs:
                writer.write(entry.SerializeToString())
        if os.path.exists(final):
            shutil.rmtree(final)  # a retried Do in the same folder
        os.replace(copy, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final
