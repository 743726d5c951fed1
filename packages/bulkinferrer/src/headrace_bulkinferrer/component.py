"""The ``BulkInferrer`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from headrace_bulkinferrer.specs import (
    normalize_data_spec,
    normalize_model_spec,
    normalize_output_example_spec,
)
from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExecutionParameter,
    InferenceResult,
    Model,
    ModelBlessing,
)

__all__ = ["BulkInferrer", "BulkInferrerSpec"]


class BulkInferrerSpec(ComponentSpec):
    PARAMETERS = {
        "data_spec": ExecutionParameter(
            type=dict,
            description=(
                "bulk_inferrer_pb2.DataSpec as JSON: {'example_splits': [...]}; no splits "
                "named: every split"
            ),
        ),
        "model_spec": ExecutionParameter(
            type=dict,
            description=(
                "bulk_inferrer_pb2.ModelSpec as JSON: model_signature_name (default "
                "serving_default) and tag"
            ),
        ),
        "output_example_spec": ExecutionParameter(
            type=dict,
            optional=True,
            description=(
                "bulk_inferrer_pb2.OutputExampleSpec as JSON: when set, the examples come out "
                "with the predictions as columns (output_examples) instead of PredictionLogs"
            ),
        ),
    }
    INPUTS = {
        "examples": ChannelParameter(
            type=Examples,
            description="tf.Example (or SequenceExample) TFRecords in Split-<name>/ to infer on",
        ),
        "model": ChannelParameter(
            type=Model,
            optional=True,
            description="a SavedModel in <uri>/Format-Serving (required by the executor, as TFX)",
        ),
        "model_blessing": ChannelParameter(
            type=ModelBlessing,
            optional=True,
            description="infer only if its 'blessed' custom property is 1 (Evaluator)",
        ),
    }
    OUTPUTS = {
        "inference_result": ChannelParameter(
            type=InferenceResult,
            optional=True,
            description=(
                "PredictionLog TFRecords, prediction_logs-*.gz (no output_example_spec); "
                "empty when the model is not blessed"
            ),
        ),
        "output_examples": ChannelParameter(
            type=Examples,
            optional=True,
            description=(
                "the examples with prediction columns, Split-<name>/examples-*.gz (with an "
                "output_example_spec); empty when the model is not blessed"
            ),
        ),
    }


class BulkInferrer(BaseComponent):
    """Runs a model over examples in batch, on Beam, as TFX's BulkInferrer.

    The SavedModel in ``<model.uri>/Format-Serving`` runs (tfx-bsl's RunInference) over every
    split of ``examples``, or those ``data_spec`` names. Without ``output_example_spec`` the
    result is ``inference_result``: TensorFlow Serving ``PredictionLog`` records in
    ``prediction_logs-*.gz``. With one, it is ``output_examples``: each example with the
    prediction columns the spec names, per split. With ``model_blessing``, a model that is
    not blessed is not run and the output is left empty, as in TFX::

        bulk_inferrer = BulkInferrer(
            examples=example_gen.outputs["examples"],
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            data_spec={"example_splits": ["unlabelled"]},
            model_spec={"model_signature_name": ["serving_default"]},
        )

    Each parameter also takes TFX's ``bulk_inferrer_pb2`` message or its JSON.
    """

    SPEC_CLASS = BulkInferrerSpec
    EXECUTOR_SPEC = "headrace_bulkinferrer.executor:Executor"
    # tf_keras SavedModels (what the Trainer exports) load with Keras 2; TensorFlow 2.16 picks
    # the Keras behind tf.keras once, at first use, from this variable.
    EXECUTOR_ENV = {"TF_USE_LEGACY_KERAS": "1"}

    def __init__(
        self,
        examples: Channel,
        model: Channel | None = None,
        model_blessing: Channel | None = None,
        data_spec: Any = None,
        model_spec: Any = None,
        output_example_spec: Any = None,
    ) -> None:
        super().__init__(
            examples=examples,
            model=model,
            model_blessing=model_blessing,
            data_spec=normalize_data_spec(data_spec),
            model_spec=normalize_model_spec(model_spec),
            output_example_spec=normalize_output_example_spec(output_example_spec),
        )

    @classmethod
    def selected_outputs(cls, exec_properties: Mapping[str, Any]) -> Collection[str]:
        # TFX's rule: examples out with an output_example_spec, PredictionLogs otherwise.
        if exec_properties.get("output_example_spec"):
            return ["output_examples"]
        return ["inference_result"]
