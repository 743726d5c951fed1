"""The ``Tuner`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
    HyperParameters,
    InvalidComponentArgumentError,
    TunerResults,
)
from headrace_core.component import check_fields, config_dict
from headrace_trainer.component import TrainerSpec, normalize_args, user_function_args

__all__ = ["TUNE_ARGS_FIELDS", "Tuner", "TunerSpec", "normalize_tune_args"]

#: The fields of TFX's ``tuner_pb2.TuneArgs``, in their JSON form.
TUNE_ARGS_FIELDS = ("num_parallel_trials",)


class TunerSpec(ComponentSpec):
    PARAMETERS = {
        "module_file": ExecutionParameter(
            type=str,
            optional=True,
            description=(
                "path of a Python file defining tuner_fn(fn_args); it and the .py files beside "
                "it enter the cache key"
            ),
        ),
        "tuner_fn": ExecutionParameter(
            type=str,
            optional=True,
            description="'package.module.function' of an importable tuner_fn(fn_args)",
        ),
        # The Trainer's, as in TFX: the same messages and the same FnArgs fields.
        "train_args": TrainerSpec.PARAMETERS["train_args"],
        "eval_args": TrainerSpec.PARAMETERS["eval_args"],
        "tune_args": ExecutionParameter(
            type=dict,
            optional=True,
            description="tuner_pb2.TuneArgs as JSON: {'num_parallel_trials': 1}",
        ),
        "custom_config": TrainerSpec.PARAMETERS["custom_config"],
    }
    INPUTS = {
        "examples": TrainerSpec.INPUTS["examples"],
        "schema": TrainerSpec.INPUTS["schema"],
        "transform_graph": TrainerSpec.INPUTS["transform_graph"],
        "base_model": TrainerSpec.INPUTS["base_model"],
    }
    OUTPUTS = {
        "best_hyperparameters": ChannelParameter(
            type=HyperParameters,
            description=(
                "best_hyperparameters.txt: the best trial's HyperParameters.get_config() as "
                "JSON, what the Trainer's hyperparameters input reads"
            ),
        ),
        "tuner_results": ChannelParameter(
            type=TunerResults,
            description="tuner_results.json: every completed trial, best first",
        ),
    }


def normalize_tune_args(value: Any) -> dict[str, Any] | None:
    """TuneArgs as a JSON dict, from a dict, a JSON string or a ``tuner_pb2.TuneArgs``."""
    if value is None:
        return None
    where = "Tuner: tune_args"
    value = config_dict(
        value, where, expected="a dict such as {'num_parallel_trials': 1} or a tuner_pb2.TuneArgs"
    )
    check_fields(value, TUNE_ARGS_FIELDS, where)
    trials = value.get("num_parallel_trials", 1)
    if not (isinstance(trials, int) and not isinstance(trials, bool) and trials >= 0):
        raise InvalidComponentArgumentError(
            f"{where}.num_parallel_trials must be a non-negative int, got {trials!r}"
        )
    if trials > 1:
        # TFX runs parallel trials only through its cloud tuner extension.
        raise InvalidComponentArgumentError(
            f"{where}.num_parallel_trials is {trials}: this Tuner runs one trial at a time "
            "(set 1, or leave tune_args unset)"
        )
    return dict(value)


class Tuner(BaseComponent):
    """Searches hyperparameters with the user's ``tuner_fn(fn_args)``, as TFX's Tuner.

    Give exactly one of ``module_file`` (a file defining ``tuner_fn``) or ``tuner_fn``
    (``"package.module.tuner_fn"``). ``tuner_fn`` receives the Trainer's ``FnArgs`` (with
    ``working_dir``, where KerasTuner keeps its trials) and returns a :class:`TunerFnResult`;
    the Tuner runs ``tuner.search(**fit_kwargs)`` and writes the best trial's hyperparameters,
    which the Trainer takes as its ``hyperparameters`` input::

        tuner = Tuner(
            module_file=module_file,
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            train_args={"num_steps": 20},
            eval_args={"num_steps": 5},
        )
        trainer = Trainer(..., hyperparameters=tuner.outputs["best_hyperparameters"])

    ``train_args``, ``eval_args`` and ``tune_args`` also take TFX's messages or their JSON.
    """

    SPEC_CLASS = TunerSpec
    EXECUTOR_SPEC = "headrace_tuner.executor:Executor"
    DRIVER_SPEC = "headrace_tuner.driver:run_driver"
    # The models a tuner_fn builds are tf.keras models, which must be Keras 2 (tf_keras) to
    # take tf.Transform's layers; TensorFlow 2.16 decides once, at first use, from this.
    EXECUTOR_ENV = {"TF_USE_LEGACY_KERAS": "1"}

    def __init__(
        self,
        examples: Channel,
        schema: Channel | None = None,
        transform_graph: Channel | None = None,
        base_model: Channel | None = None,
        module_file: str | None = None,
        tuner_fn: str | None = None,
        train_args: Any = None,
        eval_args: Any = None,
        tune_args: Any = None,
        custom_config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            examples=examples,
            schema=schema,
            transform_graph=transform_graph,
            base_model=base_model,
            module_file=user_function_args(module_file, tuner_fn, "Tuner", "tuner_fn"),
            tuner_fn=tuner_fn,
            train_args=normalize_args(train_args, "train_args", "Tuner"),
            eval_args=normalize_args(eval_args, "eval_args", "Tuner"),
            tune_args=normalize_tune_args(tune_args),
            custom_config=custom_config,
        )
