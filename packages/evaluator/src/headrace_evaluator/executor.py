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
import math
import os
import time
from typing import Any

from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import (
    SERVING_MODEL_DIR,
    decode_split_names,
)
from headrace_core.executor import saved_model_dir, single_input, split_files_pattern
from headrace_evaluator.errors import EvaluatorError
from headrace_evaluator.eval_config import iter_thresholds
from headrace_evaluator.report import (
    BLESSED_FILE,
    METRICS_HTML,
    METRICS_JSON,
    NOT_BLESSED_FILE,
    VALIDATION_JSON,
    describe_failure,
    describe_threshold,
    metric_display_name,
    render_html,
    slice_display_name,
    write_json,
)
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


def _json(message: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    result: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return result


def waive_change_thresholds(config: Any) -> list[dict[str, Any]]:
    """Remove every change threshold from ``config`` (in place); return what was removed.

    Without a baseline model there is nothing to compare with: TFX rubber-stamps the first
    model, ignoring its change thresholds. A threshold left with no value bound is removed
    altogether, so it is not counted as a check.
    """
    waived: list[dict[str, Any]] = []

    def take(where: str, metric: str, threshold: Any) -> bool:
        """Drop the change part; True when nothing of the threshold is left."""
        if not threshold.HasField("change_threshold"):
            return False
        change = {"change_threshold": _json(threshold.change_threshold)}
        waived.append(
            {
                "where": where,
                "metric": metric,
                "threshold": change,
                "threshold_text": describe_threshold(change),
            }
        )
        threshold.ClearField("change_threshold")
        return not threshold.HasField("value_threshold")

    def keep(entries: Any, where: str, metric: str) -> None:
        kept = []
        for k, entry in enumerate(entries):
            if not take(f"{where}[{k}]", metric, entry.threshold):
                copy = type(entry)()
                copy.CopyFrom(entry)
                kept.append(copy)
        del entries[:]
        entries.extend(kept)

    for i, spec in enumerate(config.metrics_specs):
        for j, metric in enumerate(spec.metrics):
            base = f"metrics_specs[{i}].metrics[{j}]"
            if metric.HasField("threshold") and take(
                f"{base}.threshold", metric.class_name, metric.threshold
            ):
                metric.ClearField("threshold")
            keep(metric.per_slice_thresholds, f"{base}.per_slice_thresholds", metric.class_name)
            keep(metric.cross_slice_thresholds, f"{base}.cross_slice_thresholds", metric.class_name)
        for name in sorted(spec.thresholds):
            if take(f"metrics_specs[{i}].thresholds[{name!r}]", name, spec.thresholds[name]):
                del spec.thresholds[name]
        for field in ("per_slice_thresholds", "cross_slice_thresholds"):
            by_name = getattr(spec, field)
            for name in sorted(by_name):
                keep(by_name[name].thresholds, f"metrics_specs[{i}].{field}[{name!r}]", name)
                if not by_name[name].thresholds:
                    del by_name[name]
    return waived


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
    data = _json(key)
    data.pop("model_name", None)
    data.pop("is_diff", None)
    return metric_display_name(data)


def _metrics_rows(
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


def _failures(result: Any) -> tuple[list[dict[str, Any]], list[str]]:
    failures = []
    for per_slice in result.metric_validations_per_slice:
        slice_key = _slice_of(per_slice)
        for failure in per_slice.failures:
            threshold = _json(failure.metric_threshold)
            entry = {
                "metric": _display_key(failure.metric_key),
                "metric_key": _json(failure.metric_key),
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
        json.dumps(_json(spec), sort_keys=True)
        for spec in (*result.missing_slices, *result.missing_cross_slices)
    ]
    return failures, missing


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _write_marker(directory: str, name: str) -> None:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "w", encoding="utf-8"):
        pass


class Executor(BaseExecutor):
    """Runs TFMA over the examples with the candidate (and baseline) model, then blesses."""

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
        model_path = saved_model_dir(model, component=component, error=error)
        baseline_path = (
            saved_model_dir(baseline, component=component, role="baseline_model", error=error)
            if baseline
            else None
        )
        schema = (
            load_schema(schema_artifact.uri, component=component, error=error)
            if schema_artifact is not None
            else None
        )

        import tensorflow as tf

        if not tf.keras.__name__.startswith("tf_keras"):
            log.warning(
                "Evaluator: tf.keras is %s (Keras 3) in this process: it was first used before "
                "TF_USE_LEGACY_KERAS=1 was set; TFMA's Keras metrics need Keras 2 (tf_keras)",
                tf.keras.__name__,
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
                "threshold": _json(threshold),
                "threshold_text": describe_threshold(_json(threshold)),
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
            tfma.default_eval_shared_model(
                eval_saved_model_path=baseline_path if spec.is_baseline else model_path,
                model_name=spec.name,
                eval_config=config,
            )
            for spec in config.model_specs
        ]

        output = evaluation.uri
        os.makedirs(output, exist_ok=True)
        started = time.monotonic()
        with beam.Pipeline(argv=self._get_beam_pipeline_args()) as pipeline:
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
            _ = data | "ExtractEvaluateAndWriteResults" >> tfma.ExtractEvaluateAndWriteResults(
                eval_shared_model=models[0] if len(models) == 1 else models,
                eval_config=config,
                output_path=output,
                tensor_adapter_config=adapter_config,
                display_only_data_location=examples.uri,
            )
        seconds = time.monotonic() - started
        log.info("Evaluator: TFMA evaluated %s in %.1f s", ", ".join(splits), seconds)

        metric_names, rows = _metrics_rows(tfma.load_metrics(output), candidate_name, baseline_name)
        result = tfma.load_validation_result(output)
        failures, missing = _failures(result)
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
