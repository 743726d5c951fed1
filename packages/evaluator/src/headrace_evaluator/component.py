"""The ``Evaluator`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExecutionParameter,
    InvalidComponentArgumentError,
    Model,
    ModelBlessing,
    ModelEvaluation,
    Schema,
)
from headrace_evaluator.eval_config import normalize_eval_config

__all__ = ["Evaluator", "EvaluatorSpec"]


class EvaluatorSpec(ComponentSpec):
    PARAMETERS = {
        "eval_config": ExecutionParameter(
            type=dict,
            description=(
                "tfma.EvalConfig as JSON (TFX's field names, keys sorted): model_specs, "
                "metrics_specs with thresholds, slicing_specs"
            ),
        ),
        "example_splits": ExecutionParameter(
            type=list,
            optional=True,
            description="names of the splits to evaluate on; unset: ['eval'] (as TFX)",
        ),
    }
    INPUTS = {
        "examples": ChannelParameter(
            type=Examples, description="tf.Example TFRecords (gzipped or not) in Split-<name>/"
        ),
        "model": ChannelParameter(
            type=Model, description="the candidate: a SavedModel in <uri>/Format-Serving"
        ),
        "baseline_model": ChannelParameter(
            type=Model,
            optional=True,
            description=(
                "the model to compare with (change thresholds); none, or a resolver that "
                "found none, waives change thresholds"
            ),
        ),
        "schema": ChannelParameter(
            type=Schema,
            optional=True,
            description="schema.pbtxt, to decode the examples with (TFXIO), as TFX does",
        ),
    }
    OUTPUTS = {
        "evaluation": ChannelParameter(
            type=ModelEvaluation,
            description=(
                "TFMA's output (tfma.load_eval_result reads it) plus metrics.json and "
                "metrics.html: the metrics per slice and the validation"
            ),
        ),
        "blessing": ChannelParameter(
            type=ModelBlessing,
            description=(
                "BLESSED or NOT_BLESSED, validation.json; custom properties blessed, "
                "current_model(_id), baseline_model(_id)"
            ),
        ),
    }


def _splits(value: Any) -> list[str] | None:
    if value is None:
        return None
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence)
        or not value
        or not all(isinstance(s, str) and s for s in value)
    ):
        raise InvalidComponentArgumentError(
            f"Evaluator: example_splits must be a non-empty list of split names, got {value!r:.80}"
        )
    if len(set(value)) != len(value):
        raise InvalidComponentArgumentError(
            f"Evaluator: example_splits names a split twice: {list(value)!r}"
        )
    return list(value)


class Evaluator(BaseComponent):
    """Evaluates a model with TensorFlow Model Analysis and blesses it, as TFX's Evaluator.

    ``eval_config`` is a ``tfma.EvalConfig``, its text format, or its JSON (string or dict).
    The model is blessed when every threshold of the config holds; a model that fails one is
    NOT_BLESSED and the run goes on. Guard what follows with the blessing::

        with Cond(evaluator.outputs["blessing"].future()[0].custom_property("blessed") == 1):
            pusher = Pusher(...)

    Change thresholds compare with ``baseline_model`` (for example a
    ``Resolver(LatestBlessedModelStrategy, ...)``); without one, on a first run, they are
    waived and the evaluation says so. A config without any threshold evaluates but never
    blesses (TFX's rule: no model is blessed by accident).
    """

    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = "headrace_evaluator.executor:Executor"
    # TFMA and the Keras SavedModels it loads need Keras 2 (tf_keras); TensorFlow 2.16 picks
    # the Keras behind tf.keras once, at first use, from this variable.
    EXECUTOR_ENV = {"TF_USE_LEGACY_KERAS": "1"}

    def __init__(
        self,
        examples: Channel,
        model: Channel,
        baseline_model: Channel | None = None,
        eval_config: Any = None,
        example_splits: Sequence[str] | None = None,
        schema: Channel | None = None,
    ) -> None:
        if eval_config is None:
            raise InvalidComponentArgumentError(
                "Evaluator: missing eval_config (a tfma.EvalConfig, its text format or its "
                "JSON) with the metrics to compute"
            )
        super().__init__(
            examples=examples,
            model=model,
            baseline_model=baseline_model,
            eval_config=normalize_eval_config(eval_config),
            example_splits=_splits(example_splits),
            schema=schema,
        )
