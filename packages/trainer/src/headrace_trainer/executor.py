"""The Trainer's executor: builds TFX's ``FnArgs`` and calls the user's ``run_fn`` with them.

Imported only when a node runs. Two process-wide settings are made here, before the user's
code runs, so that users never have to set them:

* ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is imported. tf.Transform's
  ``transform_features_layer()`` is a Keras 2 (tf_keras) layer and TensorFlow 2.16 binds
  ``tf.keras`` to Keras 2 or 3 once, at first use, from this variable. Runners already apply
  the component's ``EXECUTOR_ENV``; this ``setdefault`` covers calling the executor directly.
* AutoGraph's ``DoNotConvert('tf_keras')`` rule. TensorFlow 2.16 exempts ``keras`` but not
  ``tf_keras`` from conversion, so the first trace of a tf_keras ``train_step`` transpiles
  tf_keras's own source: the penguin ``model.fit`` takes ~15 s longer with the same result.
  Later TensorFlow releases ship the rule; adding it here is what they do.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # after the variable above: tf.keras reads it once

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import SERVING_MODEL_DIR, decode_split_names, split_uri
from headrace_core.executor import single_input
from headrace_tfdv_io import parse_schema
from headrace_trainer.component import normalize_args
from headrace_trainer.errors import ModelNotExportedError, TrainerError
from headrace_trainer.fn_args import DataAccessor, FnArgs
from headrace_trainer.rewriting import TFLITE_FILENAME
from headrace_trainer.udf import load_run_fn

__all__ = [
    "EVAL_MODEL_DIR",
    "Executor",
    "MODEL_FORMAT_KEY",
    "SAVED_MODEL_FORMAT",
    "TFLITE_FORMAT",
    "SERVING_MODEL_DIR",
    "common_fn_args",
    "disable_autograph_for_tf_keras",
    "exported_model_format",
    "get_fn_args",
    "tf_keras_in_use",
]

log = logging.getLogger(__name__)

#: TFX's directories inside a Model artifact (``tfx.utils.path_utils``).
EVAL_MODEL_DIR = "Format-TFMA"
SCHEMA_FILE = "schema.pbtxt"
TRANSFORMED_SCHEMA = os.path.join("transformed_metadata", "schema.pbtxt")
TF_EXAMPLE_PAYLOAD = "FORMAT_TF_EXAMPLE"
#: The Model artifact's custom property saying what the serving directory holds, and its
#: values (several, comma-separated, when run_fn exports more than one).
MODEL_FORMAT_KEY = "model_format"
SAVED_MODEL_FORMAT = "saved_model"
TFLITE_FORMAT = "tflite"


def exported_model_format(serving_model_dir: str) -> str | None:
    """What ``run_fn`` left in ``serving_model_dir``: ``saved_model``, ``tflite`` (TFX's
    rewriter's file), both as ``saved_model,tflite``, or None for neither."""
    found = []
    if any(
        os.path.isfile(os.path.join(serving_model_dir, name))
        for name in ("saved_model.pb", "saved_model.pbtxt")
    ):
        found.append(SAVED_MODEL_FORMAT)
    if os.path.isfile(os.path.join(serving_model_dir, TFLITE_FILENAME)):
        found.append(TFLITE_FORMAT)
    return ",".join(found) or None


def tf_keras_in_use() -> bool:
    """Whether ``tf.keras`` is Keras 2 (tf_keras) in this process.

    Asked of its ``Model`` class, not of the module's name: after ``from tensorflow.keras
    import ...`` (common in user code) ``tf.keras`` is a module named ``tensorflow.keras``
    whatever Keras it holds."""
    return str(tf.keras.Model.__module__).startswith("tf_keras")


def disable_autograph_for_tf_keras() -> bool:
    """Stop AutoGraph from transpiling tf_keras's own code; True if the rule was added now.

    tf_keras's training loop is written for graph mode and needs no conversion; TensorFlow
    2.16's rule list (``autograph.core.config.CONVERSION_RULES``) lists ``keras`` only, so
    every ``model.fit`` first converts tf_keras's source (seconds per model). Idempotent.
    """
    from tensorflow.python.autograph.core import config as autograph_config

    rules = autograph_config.CONVERSION_RULES
    for rule in rules:
        if isinstance(rule, autograph_config.DoNotConvert) and rule.matches("tf_keras"):
            return False
    autograph_config.CONVERSION_RULES = (*rules, autograph_config.DoNotConvert("tf_keras"))
    return True


def _only(input_dict: dict[str, list[Artifact]], key: str, component: str) -> Artifact | None:
    return single_input(input_dict, key, component=component, optional=True, error=TrainerError)


def _only_file(uri: str, preferred: str, what: str, component: str) -> str:
    """``uri/preferred``, or the only file in ``uri`` (TFX reads whatever single file it holds)."""
    gfile = tf.io.gfile
    path = os.path.join(uri, preferred)
    if gfile.exists(path) and not gfile.isdir(path):
        return path
    names = gfile.listdir(uri) if gfile.isdir(uri) else []
    files = sorted(n for n in names if not gfile.isdir(os.path.join(uri, n)))
    if len(files) != 1:
        raise TrainerError(
            f"{component}: {what} artifact {uri} has no {preferred} and "
            + (f"{len(files)} files ({', '.join(files)})" if files else "no file")
            + "; expected exactly one"
        )
    return os.path.join(uri, files[0])


def _split_patterns(
    examples: list[Artifact], splits: list[str], which: str, component: str
) -> list[str]:
    patterns = []
    for artifact in examples:
        payload = artifact.get_custom_property("payload_format")
        if payload not in (None, "", TF_EXAMPLE_PAYLOAD):
            raise TrainerError(
                f"{component}: examples {artifact.uri} hold {payload}; the data accessor "
                f"reads {TF_EXAMPLE_PAYLOAD} only"
            )
        known = decode_split_names(str(artifact.get_property("split_names") or ""))
        for split in splits:
            directory = split_uri(artifact, split)
            if (known and split not in known) or not tf.io.gfile.isdir(directory):
                raise TrainerError(
                    f"{component}: examples {artifact.uri} have no split {split!r} for {which} "
                    f"(splits: {', '.join(known) or 'none recorded'}); set {which}.splits"
                )
            patterns.append(os.path.join(directory, "*"))
    return patterns


def _read_schema(path: str, component: str) -> Any:
    # Through gfile, not headrace_tfdv_io.read_schema: the artifact may be on GCS or S3.
    with tf.io.gfile.GFile(path) as f:
        return parse_schema(f.read(), path, component=component, error=TrainerError)


def _data_accessor(default_schema: Callable[[], Any], component: str) -> DataAccessor:
    """TFX's DataAccessor over tf.Example TFRecords (gzipped or not), built on tfx-bsl."""

    def record(file_pattern: str | list[str], schema: Any) -> Any:
        from tfx_bsl.public import tfxio

        return tfxio.TFExampleRecord(
            file_pattern=file_pattern,
            schema=default_schema() if schema is None else schema,
            telemetry_descriptors=[component],
        )

    def tf_dataset_factory(
        file_pattern: str | list[str], options: Any, schema: Any = None
    ) -> tf.data.Dataset:
        return record(file_pattern, schema).TensorFlowDataset(options)

    def record_batch_factory(
        file_pattern: str | list[str], options: Any, schema: Any = None
    ) -> Any:
        return record(file_pattern, schema).RecordBatches(options)

    return DataAccessor(tf_dataset_factory, record_batch_factory, None)


def _load_json_dict(value: Any, name: str, component: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = json.loads(value)
    if value is not None and not isinstance(value, dict):
        raise TrainerError(f"{component}: {name} must be a dict, got {type(value).__name__}")
    return value


def common_fn_args(
    input_dict: dict[str, list[Artifact]],
    exec_properties: dict[str, Any],
    *,
    working_dir: str | None = None,
    component: str = "Trainer",
) -> FnArgs:
    """The ``FnArgs`` fields that come from inputs and parameters, as TFX's
    ``get_common_fn_args``: what the Trainer and the Tuner share (the Tuner has no model
    outputs, and passes its ``working_dir``). ``component`` names the node in errors."""
    examples = input_dict.get("examples") or []
    if not examples:
        raise TrainerError(f"{component}: input 'examples' is empty")
    train_args = normalize_args(exec_properties.get("train_args"), "train_args", component) or {}
    eval_args = normalize_args(exec_properties.get("eval_args"), "eval_args", component) or {}
    train_splits = train_args.get("splits") or ["train"]
    eval_splits = eval_args.get("splits") or ["eval"]
    train_files = _split_patterns(examples, train_splits, "train_args", component)
    eval_files = _split_patterns(examples, eval_splits, "eval_args", component)

    schema = _only(input_dict, "schema", component)
    schema_path = _only_file(schema.uri, SCHEMA_FILE, "schema", component) if schema else None
    transform = _only(input_dict, "transform_graph", component)
    transform_path = transform.uri if transform else None

    def default_schema() -> Any:
        if transform_path is not None:
            return _read_schema(os.path.join(transform_path, TRANSFORMED_SCHEMA), component)
        if schema_path is not None:
            return _read_schema(schema_path, component)
        raise TrainerError(
            f"{component}: tf_dataset_factory needs a schema: pass one, or give the "
            f"{component} a schema or transform_graph input"
        )

    base = _only(input_dict, "base_model", component)
    base_model = None
    if base is not None:
        base_model = os.path.join(base.uri, SERVING_MODEL_DIR)
        if not tf.io.gfile.isdir(base_model):
            raise TrainerError(
                f"{component}: base_model {base.uri} has no {SERVING_MODEL_DIR}/ directory to "
                "warm-start from"
            )

    hyperparameters = None
    hp = _only(input_dict, "hyperparameters", component)
    if hp is not None:
        hp_file = _only_file(hp.uri, "best_hyperparameters.txt", "hyperparameters", component)
        with tf.io.gfile.GFile(hp_file) as f:
            try:
                hyperparameters = json.load(f)
            except json.JSONDecodeError as e:
                raise TrainerError(f"{component}: hyperparameters file {hp_file}: {e}") from None

    return FnArgs(
        working_dir=working_dir,
        train_files=train_files,
        eval_files=eval_files,
        # TFX: an unset (0) num_steps means None, which Keras reads as "until the data ends".
        train_steps=train_args.get("num_steps") or None,
        eval_steps=eval_args.get("num_steps") or None,
        schema_path=schema_path,
        schema_file=schema_path,
        transform_graph_path=transform_path,
        transform_output=transform_path,
        data_accessor=_data_accessor(default_schema, component),
        base_model=base_model,
        hyperparameters=hyperparameters,
        custom_config=_load_json_dict(
            exec_properties.get("custom_config"), "custom_config", component
        ),
    )


def get_fn_args(
    input_dict: dict[str, list[Artifact]],
    output_dict: dict[str, list[Artifact]],
    exec_properties: dict[str, Any],
) -> FnArgs:
    """The ``FnArgs`` TFX's Trainer would build from these inputs, outputs and parameters."""
    fn_args = common_fn_args(input_dict, exec_properties)
    model = single_input(
        output_dict, "model", component="Trainer", what="output", error=TrainerError
    )
    model_run = single_input(
        output_dict, "model_run", component="Trainer", what="output", error=TrainerError
    )
    os.makedirs(model.uri, exist_ok=True)
    os.makedirs(model_run.uri, exist_ok=True)
    fn_args.serving_model_dir = os.path.join(model.uri, SERVING_MODEL_DIR)
    fn_args.eval_model_dir = os.path.join(model.uri, EVAL_MODEL_DIR)
    fn_args.model_run_dir = model_run.uri
    return fn_args


def _describe_run_fn(exec_properties: dict[str, Any]) -> str:
    if exec_properties.get("module_file"):
        return f"run_fn in module_file {exec_properties['module_file']}"
    return f"run_fn {exec_properties.get('run_fn')!r}"


class Executor(BaseExecutor):
    """Runs the user's ``run_fn(fn_args)``, checks that it exported a serving model (a
    SavedModel, or a TFLite model as TFX's rewriter writes it) and records which."""

    def Do(  # noqa: N802 - TFX's name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        fn_args = get_fn_args(input_dict, output_dict, exec_properties)
        run_fn = load_run_fn(exec_properties)
        if not tf_keras_in_use():
            log.warning(
                "tf.keras is Keras 3 in this process: it was first used before "
                "TF_USE_LEGACY_KERAS=1 was set, so tf.Transform's Keras 2 layers will not mix "
                "with a tf.keras model"
            )
        disable_autograph_for_tf_keras()

        started = time.monotonic()
        run_fn(fn_args)
        seconds = time.monotonic() - started

        serving = fn_args.serving_model_dir or ""
        model_format = exported_model_format(serving)
        if model_format is None:
            found = sorted(os.listdir(serving)) if os.path.isdir(serving) else []
            misnamed = [n for n in found if n.endswith(".tflite")]
            raise ModelNotExportedError(
                f"Trainer: {_describe_run_fn(exec_properties)} returned without exporting a "
                f"model: no saved_model.pb in fn_args.serving_model_dir ({serving}"
                + (f", which holds {', '.join(found)}" if found else ", which does not exist")
                + f") and no TFLite model named {TFLITE_FILENAME}; save one there, e.g. "
                "model.save(fn_args.serving_model_dir, save_format='tf', signatures=...), or "
                "convert one into it with rewriter_factory.TFLITE_REWRITER"
                + (
                    f" ({', '.join(misnamed)}: TFMA and the Pusher look for the file name "
                    f"{TFLITE_FILENAME}, the rewriter's default filename)"
                    if misnamed
                    else ""
                )
            )
        model = single_input(
            output_dict, "model", component="Trainer", what="output", error=TrainerError
        )
        model.set_string_custom_property(MODEL_FORMAT_KEY, model_format)
        log.info(
            "Trainer: run_fn took %.1f s; model (%s) exported to %s", seconds, model_format, serving
        )
