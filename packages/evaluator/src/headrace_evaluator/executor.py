"""``Evaluator``'s executor: TensorFlow Model Analysis on Beam, then the blessing.

Imported only when the node runs; TFMA (and with it TensorFlow) is imported inside ``Do``.
Reads TFX's layouts: gzipped (or plain) tf.Example TFRecords in ``<examples>/Split-<name>/``,
SavedModels in ``<model>/Format-Serving``, the schema in ``<schema>/schema.pbtxt``. Writes
TFMA's own files into the evaluation (``tfma.load_eval_result(uri)`` reads them) plus
``metrics.json`` / ``metrics.html``, and TFX's ``BLESSED`` / ``NOT_BLESSED`` marker plus
``validation.json`` into the blessing.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import (
    SERVING_MODEL_DIR,
    decode_split_names,
    serving_model_path,
)
from headrace_core.executor import (
    describe_directory,
    saved_model_dir,
    single_input,
    split_files_pattern,
)
from headrace_core.usercode import with_user_code
from headrace_evaluator.customize import (
    call_hook,
    check_slicing_columns,
    customize,
    waive_change_thresholds,
)
from headrace_evaluator.errors import EvaluatorError
from headrace_evaluator.eval_config import TF_LITE, iter_thresholds, tf_lite_roles
from headrace_evaluator.report import (
    BLESSED_FILE,
    METRICS_HTML,
    METRICS_JSON,
    NOT_BLESSED_FILE,
    VALIDATION_JSON,
    describe_failure,
    describe_threshold,
    render_html,
    write_json,
)
from headrace_evaluator.results import failures_of, message_json, metrics_rows
from headrace_evaluator.udf import CUSTOM_EVAL_SHARED_MODEL, CUSTOM_EXTRACTORS, UserModule
from headrace_tfdv_io import load_schema

__all__ = [
    "BASELINE_MODEL_ID_KEY",
    "BASELINE_MODEL_KEY",
    "BLESSED_KEY",
    "CURRENT_MODEL_ID_KEY",
    "CURRENT_MODEL_KEY",
    "DEFAULT_MODEL_TYPE",
    "SERVING_MODEL_DIR",
    "Executor",
    "waive_change_thresholds",
]

log = logging.getLogger(__name__)

#: The file a ``tf_lite`` model is read from (TFMA's name; TFX's TFLite rewriter's default).
TFLITE_FILE = "tflite"

#: TFX's custom property names on a ModelBlessing.
BLESSED_KEY = "blessed"
CURRENT_MODEL_KEY = "current_model"
CURRENT_MODEL_ID_KEY = "current_model_id"
BASELINE_MODEL_KEY = "baseline_model"
BASELINE_MODEL_ID_KEY = "baseline_model_id"

#: Where the Trainer exports the serving model inside a Model artifact (TFX's layout).
DEFAULT_SPLITS = ("eval",)
#: The model type used when a model_spec sets none. TFMA's detection loads a Keras SavedModel
#: several times to find out what it is, and adds the model's compiled metrics (its loss);
#: 'tf_generic' calls the serving signature and computes exactly the configured metrics,
#: with the same values, in about half the time (see the package README).
DEFAULT_MODEL_TYPE = "tf_generic"


def _json_property(name: str, value: str) -> Any:
    """TFX passes some parameters as JSON strings; a bad one is named, not a bare traceback."""
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise EvaluatorError(f"Evaluator: {name} is not valid JSON ({e}): {value[:80]!r}") from e


def _example_splits(value: Any) -> list[str]:
    # TFX passes a JSON string; headrace passes the list itself.
    if isinstance(value, str):
        value = _json_property("example_splits", value) if value.strip() else None
    if not value:
        log.info("Evaluator: example_splits is not set; evaluating the 'eval' split (as TFX)")
        return list(DEFAULT_SPLITS)
    if not (isinstance(value, list) and all(isinstance(s, str) and s for s in value)):
        raise EvaluatorError(f"Evaluator: example_splits must be a list of names, got {value!r}")
    return value


def _split_patterns(examples: Artifact, splits: list[str]) -> dict[str, str]:
    """``<examples>/Split-<name>/*`` for each split, checked to hold files."""
    payload = examples.get_custom_property("payload_format")
    if payload not in (None, "", "FORMAT_TF_EXAMPLE"):
        raise EvaluatorError(
            f"Evaluator: examples {examples.uri} have payload_format {payload!r}; the Evaluator "
            "reads tf.Example records (FORMAT_TF_EXAMPLE)"
        )
    encoded = examples.properties.get("split_names")
    known = decode_split_names(encoded if isinstance(encoded, str) else None)
    if not known and os.path.isdir(examples.uri):
        known = sorted(
            n[len("Split-") :] for n in os.listdir(examples.uri) if n.startswith("Split-")
        )
    patterns = {}
    for split in splits:
        if split not in known:
            raise EvaluatorError(
                f"Evaluator: examples {examples.uri} have no split {split!r} to evaluate on "
                f"(splits: {', '.join(known) or 'none'}); set example_splits"
            )
        patterns[split] = split_files_pattern(
            examples, split, component="Evaluator", error=EvaluatorError
        )
    return patterns


def _model_dir(model: Artifact, role: str, tflite: bool) -> str:
    """``<uri>/Format-Serving``, checked to hold what the model type reads: a SavedModel, or
    for ``tf_lite`` the ``tflite`` file TFX's rewriter writes (TFMA reads that name only)."""
    path = serving_model_path(model)
    has_tflite = os.path.isfile(os.path.join(path, TFLITE_FILE))
    if tflite:
        if has_tflite:
            return path
        raise EvaluatorError(
            f"Evaluator: {role} {model.uri} holds no TFLite model: no {TFLITE_FILE} in {path} "
            f"({describe_directory(path)}), and eval_config's model_specs give it model_type "
            f"'{TF_LITE}'"
        )
    try:
        return saved_model_dir(model, component="Evaluator", role=role, error=EvaluatorError)
    except EvaluatorError as e:
        if has_tflite:
            raise EvaluatorError(
                f"{e}; it holds a TFLite model: set model_type: '{TF_LITE}' in eval_config's "
                "model_specs to evaluate it"
            ) from None
        raise


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _write_marker(directory: str, name: str) -> None:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "w", encoding="utf-8"):
        pass


class Executor(BaseExecutor):
    """Runs TFMA over the examples with the candidate (and baseline) model, then blesses."""

    @staticmethod
    def _shared_model(user: UserModule | None, **kwargs: Any) -> Any:
        """TFMA's EvalSharedModel, from the user's ``custom_eval_shared_model`` if defined."""
        if user is not None and user.hook(CUSTOM_EVAL_SHARED_MODEL):
            # TFX passes add_metrics_callbacks too; a hook written for TFX may expect it.
            return call_hook(user, CUSTOM_EVAL_SHARED_MODEL, add_metrics_callbacks=None, **kwargs)
        import tensorflow_model_analysis as tfma

        return tfma.default_eval_shared_model(**kwargs)

    def Do(  # noqa: N802 - TFX's method name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        component, error = "Evaluator", EvaluatorError
        examples = single_input(input_dict, "examples", component=component, error=error)
        model = single_input(input_dict, "model", component=component, error=error)
        baseline = single_input(
            input_dict, "baseline_model", component=component, optional=True, error=error
        )
        schema_artifact = single_input(
            input_dict, "schema", component=component, optional=True, error=error
        )
        evaluation = single_input(
            output_dict, "evaluation", component=component, what="output", error=error
        )
        blessing = single_input(
            output_dict, "blessing", component=component, what="output", error=error
        )

        raw_config = exec_properties.get("eval_config")
        if isinstance(raw_config, str):  # TFX passes the JSON as a string
            raw_config = _json_property("eval_config", raw_config)
        if not isinstance(raw_config, dict):
            raise EvaluatorError("Evaluator: eval_config is missing (a tfma.EvalConfig as JSON)")
        splits = _example_splits(exec_properties.get("example_splits"))
        patterns = _split_patterns(examples, splits)
        lite = tf_lite_roles(raw_config)
        model_path = _model_dir(model, "model", lite["model"])
        baseline_path = (
            _model_dir(baseline, "baseline_model", lite["baseline_model"]) if baseline else None
        )
        schema = (
            load_schema(schema_artifact.uri, component=component, error=error)
            if schema_artifact is not None
            else None
        )

        import tensorflow as tf

        # Asked of the Model class: after `from tensorflow.keras import ...` the module is
        # named tensorflow.keras whichever Keras it holds.
        if not str(tf.keras.Model.__module__).startswith("tf_keras"):
            log.warning(
                "Evaluator: tf.keras is Keras 3 in this process: it was first used before "
                "TF_USE_LEGACY_KERAS=1 was set; TFMA's Keras metrics need Keras 2 (tf_keras)"
            )
        import apache_beam as beam
        import tensorflow_model_analysis as tfma
        from google.protobuf import json_format
        from tfx_bsl.public import tfxio
        from tfx_bsl.tfxio import tensor_adapter

        try:
            config = json_format.ParseDict(raw_config, tfma.EvalConfig())
        except json_format.ParseError as e:
            raise EvaluatorError(f"Evaluator: eval_config: {str(e).splitlines()[0]}") from None
        done = customize(config, exec_properties)
        user = done.user_module
        check_slicing_columns(config, patterns, schema, done)
        waived: list[dict[str, Any]] = []
        if baseline is None:
            waived = waive_change_thresholds(config)
            if waived:
                log.warning(
                    "Evaluator: no baseline model, so %s waived (a first run is "
                    "rubber-stamped, as in TFX): %s",
                    _count(len(waived), "change threshold")
                    + (" is" if len(waived) == 1 else " are"),
                    "; ".join(f"{w['metric']}: {w['threshold_text']}" for w in waived),
                )
        applied = [
            {
                "where": where,
                "metric": name,
                "threshold": message_json(threshold),
                "threshold_text": describe_threshold(message_json(threshold)),
            }
            for where, name, threshold in iter_thresholds(config)
        ]
        if not config.model_specs:
            config.model_specs.add()
        for spec in config.model_specs:
            if not spec.model_type:
                spec.model_type = DEFAULT_MODEL_TYPE
        config = tfma.utils.update_eval_config_with_defaults(
            config, has_baseline=baseline is not None
        )
        try:
            tfma.utils.verify_eval_config(config)
        except ValueError as e:
            raise EvaluatorError(f"Evaluator: eval_config: {str(e).splitlines()[0]}") from e

        candidate_name = next(s.name for s in config.model_specs if not s.is_baseline)
        baseline_name = next((s.name for s in config.model_specs if s.is_baseline), None)
        models = [
            self._shared_model(
                user,
                eval_saved_model_path=baseline_path if spec.is_baseline else model_path,
                model_name=spec.name,
                eval_config=config,
            )
            for spec in config.model_specs
        ]
        shared_model = models[0] if len(models) == 1 else models
        beam_args = self._get_beam_pipeline_args()
        if user is not None:
            beam_args = with_user_code(beam_args, *user.code_objects())

        output = evaluation.uri
        os.makedirs(output, exist_ok=True)
        started = time.monotonic()
        with beam.Pipeline(argv=beam_args) as pipeline:
            reads = []
            source = None
            for split, pattern in patterns.items():
                source = tfxio.TFExampleRecord(
                    file_pattern=pattern,
                    schema=schema,
                    raw_record_column_name=tfma.ARROW_INPUT_COLUMN,
                    telemetry_descriptors=["headrace-evaluator"],
                )
                reads.append(pipeline | f"Read[{split}]" >> source.BeamSource())
            data = reads[0] if len(reads) == 1 else reads | "Flatten" >> beam.Flatten()
            adapter_config = None
            if schema is not None and source is not None:
                # Every split shares the schema, so the last source's view stands for all.
                adapter_config = tensor_adapter.TensorAdapterConfig(
                    arrow_schema=source.ArrowSchema(),
                    tensor_representations=source.TensorRepresentations(),
                )
            extractors = None
            if user is not None and user.hook(CUSTOM_EXTRACTORS):
                extractors = call_hook(
                    user,
                    CUSTOM_EXTRACTORS,
                    eval_shared_model=shared_model,
                    eval_config=config,
                    tensor_adapter_config=adapter_config,
                )
            _ = data | "ExtractEvaluateAndWriteResults" >> tfma.ExtractEvaluateAndWriteResults(
                eval_shared_model=shared_model,
                eval_config=config,
                extractors=extractors,
                output_path=output,
                tensor_adapter_config=adapter_config,
                display_only_data_location=examples.uri,
            )
        seconds = time.monotonic() - started
        log.info("Evaluator: TFMA evaluated %s in %.1f s", ", ".join(splits), seconds)

        metric_names, rows = metrics_rows(tfma.load_metrics(output), candidate_name, baseline_name)
        result = tfma.load_validation_result(output)
        failures, missing = failures_of(result)
        if applied:
            blessed = bool(result.validation_ok)
            if blessed:
                reason = (
                    "the threshold holds on every slice"
                    if len(applied) == 1
                    else f"all {len(applied)} thresholds hold on every slice"
                )
            else:
                reason = (
                    _count(len(failures), "validation")
                    + " failed"
                    + (
                        f", {_count(len(missing), 'slicing spec')} matched no slice"
                        if missing
                        else ""
                    )
                )
        elif waived:
            blessed = True
            reason = (
                "rubber-stamped: every threshold is a change threshold, and without a baseline "
                "model they are waived (first run)"
            )
        else:
            blessed = False
            reason = (
                "no thresholds are configured: the Evaluator blesses a model only when it "
                "passes thresholds (TFX's rule)"
            )
        if waived and applied:
            reason += "; change thresholds waived without a baseline model"

        validation: dict[str, Any] = {
            "blessed": blessed,
            "reason": reason,
            "validation_ok": bool(result.validation_ok),
            "failures": failures,
            "missing_slices": missing,
            "thresholds": applied,
            "waived_change_thresholds": waived,
            "model": model.uri,
            "model_id": model.id,
            "baseline_model": baseline.uri if baseline else None,
            "baseline_model_id": baseline.id if baseline else None,
        }
        document = {
            "examples": examples.uri,
            "example_splits": splits,
            "model": model.uri,
            "model_id": model.id,
            "baseline_model": baseline.uri if baseline else None,
            "baseline_model_id": baseline.id if baseline else None,
            "model_types": {s.name or "candidate": s.model_type for s in config.model_specs},
            "metric_names": metric_names,
            "customizations": done.as_json(),
            "slices": rows,
            "validation": validation,
        }
        write_json(os.path.join(output, METRICS_JSON), document)
        with open(os.path.join(output, METRICS_HTML), "w", encoding="utf-8") as f:
            f.write(render_html(document, f"Evaluation of {model.uri}"))

        _write_marker(blessing.uri, BLESSED_FILE if blessed else NOT_BLESSED_FILE)
        write_json(os.path.join(blessing.uri, VALIDATION_JSON), validation)
        blessing.set_custom_property(BLESSED_KEY, 1 if blessed else 0)
        blessing.set_custom_property(CURRENT_MODEL_KEY, model.uri)
        if model.id is not None:
            blessing.set_custom_property(CURRENT_MODEL_ID_KEY, int(model.id))
        if baseline is not None:
            blessing.set_custom_property(BASELINE_MODEL_KEY, baseline.uri)
            if baseline.id is not None:
                blessing.set_custom_property(BASELINE_MODEL_ID_KEY, int(baseline.id))
        if blessed:
            log.info("Evaluator: BLESSED: %s", reason)
        else:
            log.warning(
                "Evaluator: NOT_BLESSED: %s%s",
                reason,
                "".join(f"\n  {describe_failure(f)}" for f in failures),
            )
