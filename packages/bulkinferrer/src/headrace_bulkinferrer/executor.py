"""``BulkInferrer``'s executor: tfx-bsl's RunInference over the examples, on Beam.

Imported only when the node runs; TensorFlow, tfx-bsl and Beam are imported inside ``Do``.
Reads TFX's layouts (tf.Example TFRecords in ``<examples>/Split-<name>/``, the SavedModel in
``<model>/Format-Serving``) and writes TFX's: ``<inference_result>/prediction_logs-*.gz``, or
``<output_examples>/Split-<name>/examples-*.gz``. The model is loaded by each Beam worker, so
the same node runs in one process, in the multi-process DirectRunner's workers or in remote
SDK workers that share the pipeline root's file system.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from headrace_bulkinferrer.errors import BulkInferrerError
from headrace_bulkinferrer.specs import (
    normalize_data_spec,
    normalize_model_spec,
    normalize_output_example_spec,
)
from headrace_bulkinferrer.to_examples import prediction_to_example
from headrace_core import Artifact, BaseExecutor
from headrace_core.artifacts import (
    BLESSED_KEY,
    encode_split_names,
    is_blessed,
    split_uri,
)
from headrace_core.executor import (
    json_property,
    saved_model_dir,
    single_input,
    split_files_pattern,
    split_names,
)

__all__ = ["EXAMPLES_FILE_PREFIX", "PREDICTION_LOGS_FILE_PREFIX", "Executor"]

log = logging.getLogger(__name__)

#: TFX's file names: <inference_result>/prediction_logs-*.gz, <split>/examples-*.gz.
PREDICTION_LOGS_FILE_PREFIX = "prediction_logs"
EXAMPLES_FILE_PREFIX = "examples"
_PAYLOADS = ("FORMAT_TF_EXAMPLE", "FORMAT_TF_SEQUENCE_EXAMPLE")
_COMPONENT = "BulkInferrer"


def _splits(examples: Artifact, data_spec: dict[str, Any]) -> dict[str, str]:
    """Split name -> file pattern, for the splits data_spec selects (all by default)."""
    known = split_names(examples, component=_COMPONENT, role="examples")
    wanted = data_spec.get("example_splits") or known
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise BulkInferrerError(
            f"BulkInferrer: data_spec.example_splits names {', '.join(map(repr, unknown))}, "
            f"which examples {examples.uri} do not have (splits: {', '.join(known)})"
        )
    return {
        split: split_files_pattern(examples, split, component=_COMPONENT, error=BulkInferrerError)
        for split in wanted
    }


def _check_signatures(path: str, model_spec: dict[str, Any]) -> None:
    """A signature the model lacks is named here, not deep inside a Beam worker."""
    from tensorflow.python.tools import saved_model_utils

    tags = model_spec.get("tag") or ["serve"]
    try:
        meta_graph = saved_model_utils.get_meta_graph_def(path, ",".join(tags))
    except RuntimeError as e:
        raise BulkInferrerError(f"BulkInferrer: model {path}: {e}") from None
    available = sorted(meta_graph.signature_def)
    for name in model_spec.get("model_signature_name") or ["serving_default"]:
        if name not in available:
            raise BulkInferrerError(
                f"BulkInferrer: model {path} has no signature {name!r} "
                f"(signatures: {', '.join(available) or 'none'}); set "
                "model_spec.model_signature_name"
            )


class Executor(BaseExecutor):
    """Runs the model over the selected splits; writes PredictionLogs or examples."""

    def Do(  # noqa: N802 - TFX's method name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        error = BulkInferrerError
        examples = single_input(input_dict, "examples", component=_COMPONENT, error=error)
        model = single_input(input_dict, "model", component=_COMPONENT, optional=True, error=error)
        blessing = single_input(
            input_dict, "model_blessing", component=_COMPONENT, optional=True, error=error
        )
        inference_result = single_input(
            output_dict, "inference_result", component=_COMPONENT, optional=True, what="output"
        )
        output_examples = single_input(
            output_dict, "output_examples", component=_COMPONENT, optional=True, what="output"
        )
        if model is None:
            raise BulkInferrerError(
                "BulkInferrer: input 'model' is empty: there is no model to infer with "
                "(wire it to a Trainer's model, or a resolver that finds one)"
            )
        if blessing is not None and not is_blessed(blessing):
            log.warning(
                "BulkInferrer: not inferring: model %s was not blessed (%s %s has %s=%r)",
                model.uri,
                blessing.type_name,
                blessing.uri,
                BLESSED_KEY,
                blessing.get_custom_property(BLESSED_KEY),
            )
            return
        if blessing is None:
            log.info("BulkInferrer: no model_blessing given; inferring with %s", model.uri)

        data_spec = normalize_data_spec(
            json_property(exec_properties, "data_spec", component=_COMPONENT, error=error)
        )
        model_spec = normalize_model_spec(
            json_property(exec_properties, "model_spec", component=_COMPONENT, error=error)
        )
        example_spec = normalize_output_example_spec(
            json_property(exec_properties, "output_example_spec", component=_COMPONENT, error=error)
        )
        if (output_examples is None) != (example_spec is None) or (inference_result is None) == (
            output_examples is None
        ):
            raise BulkInferrerError(
                "BulkInferrer: output_examples comes with an output_example_spec, and "
                "inference_result without one; the node's outputs do not match its parameters"
            )
        payload = examples.get_custom_property("payload_format") or "FORMAT_TF_EXAMPLE"
        if payload not in _PAYLOADS:
            raise BulkInferrerError(
                f"BulkInferrer: examples {examples.uri} have payload_format {payload!r}; the "
                f"BulkInferrer reads {' or '.join(_PAYLOADS)}"
            )
        if example_spec is not None and payload != "FORMAT_TF_EXAMPLE":
            raise BulkInferrerError(
                "BulkInferrer: output_example_spec adds columns to tf.Examples; examples "
                f"{examples.uri} hold {payload}: infer to inference_result instead"
            )
        patterns = _splits(examples, data_spec)
        model_path = saved_model_dir(model, component=_COMPONENT, error=error)

        import tensorflow as tf

        _check_signatures(model_path, model_spec)
        import apache_beam as beam
        from tensorflow_serving.apis import prediction_log_pb2
        from tfx_bsl.public.beam import run_inference
        from tfx_bsl.public.proto import model_spec_pb2

        inference_spec = model_spec_pb2.InferenceSpecType(
            saved_model_spec=model_spec_pb2.SavedModelSpec(
                model_path=model_path,
                tag=model_spec.get("tag", []),
                signature_name=model_spec.get("model_signature_name", []),
            )
        )
        parse = (
            tf.train.Example.FromString
            if payload == "FORMAT_TF_EXAMPLE"
            else tf.train.SequenceExample.FromString
        )
        log.info("BulkInferrer: inferring on %s with %s", ", ".join(patterns), model_path)
        started = time.monotonic()
        with beam.Pipeline(argv=self._get_beam_pipeline_args()) as pipeline:
            results = []
            for split, pattern in patterns.items():
                predictions = (
                    pipeline
                    | f"Read[{split}]" >> beam.io.ReadFromTFRecord(pattern)
                    | f"Parse[{split}]" >> beam.Map(parse)
                    | f"RunInference[{split}]" >> run_inference.RunInference(inference_spec)
                )
                results.append(predictions)
                if output_examples is not None:
                    _ = (
                        predictions
                        | f"ToExamples[{split}]"
                        >> beam.Map(prediction_to_example, spec=example_spec)
                        | f"WriteExamples[{split}]"
                        >> beam.io.WriteToTFRecord(
                            os.path.join(split_uri(output_examples, split), EXAMPLES_FILE_PREFIX),
                            file_name_suffix=".gz",
                            coder=beam.coders.ProtoCoder(tf.train.Example),
                        )
                    )
            if inference_result is not None:
                _ = (
                    results
                    | "Flatten" >> beam.Flatten(pipeline=pipeline)
                    | "WritePredictionLogs"
                    >> beam.io.WriteToTFRecord(
                        os.path.join(inference_result.uri, PREDICTION_LOGS_FILE_PREFIX),
                        file_name_suffix=".gz",
                        coder=beam.coders.ProtoCoder(prediction_log_pb2.PredictionLog),
                    )
                )
        if output_examples is not None:
            output_examples.set_property("split_names", encode_split_names(sorted(patterns)))
            output_examples.set_custom_property("payload_format", "FORMAT_TF_EXAMPLE")
        where = inference_result if inference_result is not None else output_examples
        assert where is not None
        log.info(
            "BulkInferrer: inferred on %s in %.1f s; written to %s",
            ", ".join(patterns),
            time.monotonic() - started,
            where.uri,
        )
