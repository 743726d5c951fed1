"""The ``Evaluator`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

import os
import re
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
from headrace_evaluator.fairness import check_no_fairness_metric, normalize_thresholds
from headrace_evaluator.slicing import normalize_feature_slicing_spec

__all__ = ["Evaluator", "EvaluatorSpec"]

_MODULE_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


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
        "feature_slicing_spec": ExecutionParameter(
            type=dict,
            optional=True,
            description=(
                "TFX's deprecated evaluator_pb2.FeatureSlicingSpec as JSON: each spec's "
                "column_for_slicing becomes a slicing_specs feature_keys (and Overall)"
            ),
        ),
        "fairness_indicator_thresholds": ExecutionParameter(
            type=list,
            optional=True,
            description=(
                "thresholds in [0, 1]: the FairnessIndicators metric at these thresholds "
                "is added to every metrics spec"
            ),
        ),
        "module_file": ExecutionParameter(
            type=str,
            optional=True,
            description=(
                "a Python file defining custom_eval_shared_model, custom_extractors or "
                "metric classes; it and the .py files beside it enter the cache key"
            ),
        ),
        "module_path": ExecutionParameter(
            type=str,
            optional=True,
            description="an importable module ('package.module') with the same contents",
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


def _module_file(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidComponentArgumentError(
            f"Evaluator: module_file must be the path of a Python file, got {value!r:.80}"
        )
    if "://" in value:
        return value
    # The cache key hashes the file; an absolute path finds it from any directory.
    path = os.path.abspath(value)
    if not os.path.isfile(path):
        raise InvalidComponentArgumentError(
            f"Evaluator: module_file {path} does not exist (it should define "
            "custom_eval_shared_model, custom_extractors or metric classes)"
        )
    return path


def _module_path(value: Any) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str) and _MODULE_PATH.match(value)):
        raise InvalidComponentArgumentError(
            f"Evaluator: module_path must be an importable module's name "
            f"('package.module'), got {value!r:.80}"
        )
    return value


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

    TFX's other parameters: ``feature_slicing_spec`` (deprecated; its slices join the
    config's), ``fairness_indicator_thresholds`` (the FairnessIndicators metric at those
    thresholds in every metrics spec), ``module_file`` or ``module_path`` (a module with
    ``custom_eval_shared_model``, ``custom_extractors`` or metric classes the config names).
    """

    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = "headrace_evaluator.executor:Executor"
    DRIVER_SPEC = "headrace_evaluator.driver:run_driver"
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
        feature_slicing_spec: Any = None,
        fairness_indicator_thresholds: Any = None,
        module_file: str | None = None,
        module_path: str | None = None,
    ) -> None:
        slicing = normalize_feature_slicing_spec(feature_slicing_spec)
        if eval_config is None:
            raise InvalidComponentArgumentError(
                "Evaluator: missing eval_config (a tfma.EvalConfig, its text format or its "
                "JSON) with the metrics to compute"
                + (
                    "; feature_slicing_spec alone (TFX's estimator-only path) says how to "
                    "slice, not what to compute: give both, and its slices join eval_config's"
                    if slicing is not None
                    else ""
                )
            )
        if module_file is not None and module_path is not None:
            raise InvalidComponentArgumentError(
                "Evaluator: give at most one of module_file and module_path, got "
                f"module_file={module_file!r} and module_path={module_path!r}"
            )
        thresholds = normalize_thresholds(fairness_indicator_thresholds)
        config = normalize_eval_config(eval_config, metrics_added=thresholds is not None)
        if thresholds is not None:
            check_no_fairness_metric(config)
        super().__init__(
            examples=examples,
            model=model,
            baseline_model=baseline_model,
            eval_config=config,
            example_splits=_splits(example_splits),
            schema=schema,
            feature_slicing_spec=slicing,
            fairness_indicator_thresholds=thresholds,
            module_file=_module_file(module_file),
            module_path=_module_path(module_path),
        )
