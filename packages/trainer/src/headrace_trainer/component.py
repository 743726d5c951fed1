"""The ``Trainer`` component: its spec and a reference to its executor, nothing heavy."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from typing import Any

from headrace_core import (
    BaseComponent,
    Channel,
    ChannelParameter,
    ComponentSpec,
    Examples,
    ExecutionParameter,
    HyperParameters,
    InvalidComponentArgumentError,
    Model,
    ModelRun,
    Schema,
    TransformGraph,
)
from headrace_core.component import config_dict

__all__ = ["ARGS_FIELDS", "Trainer", "TrainerSpec", "normalize_args", "user_function_args"]

#: The fields of TFX's ``trainer_pb2.TrainArgs`` and ``EvalArgs``, in their JSON form.
ARGS_FIELDS = ("num_steps", "splits")

_RUN_FN_REF = re.compile(r"^[A-Za-z_][\w.]*[.:][A-Za-z_]\w*$")


class TrainerSpec(ComponentSpec):
    PARAMETERS = {
        "module_file": ExecutionParameter(
            type=str,
            optional=True,
            description=(
                "path of a Python file defining run_fn(fn_args); it and the .py files beside "
                "it enter the cache key"
            ),
        ),
        "run_fn": ExecutionParameter(
            type=str,
            optional=True,
            description="'package.module.function' of an importable run_fn(fn_args)",
        ),
        "train_args": ExecutionParameter(
            type=dict,
            optional=True,
            description="trainer_pb2.TrainArgs as JSON: {'num_steps': 100, 'splits': ['train']}",
        ),
        "eval_args": ExecutionParameter(
            type=dict,
            optional=True,
            description="trainer_pb2.EvalArgs as JSON: {'num_steps': 5, 'splits': ['eval']}",
        ),
        "custom_config": ExecutionParameter(
            type=dict, optional=True, description="fn_args.custom_config, as given"
        ),
    }
    INPUTS = {
        "examples": ChannelParameter(
            type=Examples,
            description="tf.Examples in Split-<name>/ (transformed, with a transform_graph)",
        ),
        "transform_graph": ChannelParameter(
            type=TransformGraph,
            optional=True,
            description="tf.Transform output: fn_args.transform_output / transform_graph_path",
        ),
        "schema": ChannelParameter(
            type=Schema, optional=True, description="fn_args.schema_path (the raw data's schema)"
        ),
        "base_model": ChannelParameter(
            type=Model,
            optional=True,
            description="a model to warm-start from: fn_args.base_model is its Format-Serving dir",
        ),
        "hyperparameters": ChannelParameter(
            type=HyperParameters,
            optional=True,
            description="a JSON file (Tuner's best_hyperparameters.txt): fn_args.hyperparameters",
        ),
    }
    OUTPUTS = {
        "model": ChannelParameter(
            type=Model, description="the SavedModel run_fn exports, in Format-Serving/"
        ),
        "model_run": ChannelParameter(
            type=ModelRun,
            allow_empty=True,
            description="fn_args.model_run_dir: TensorBoard logs and whatever else run_fn keeps",
        ),
    }


def user_function_args(
    module_file: str | None, ref: str | None, component: str, function: str
) -> str | None:
    """Check that exactly one of ``module_file`` or the reference parameter ``function``
    (``"package.module.function"``) is given; the module file as an absolute path."""
    if (module_file is None) == (ref is None):
        raise InvalidComponentArgumentError(
            f"{component}: give exactly one of module_file (a file defining {function}) or "
            f"{function} ('package.module.{function}')"
            + (f"; got module_file={module_file!r} and {function}={ref!r}" if ref else "")
        )
    if module_file is not None:
        if not isinstance(module_file, str) or not module_file:
            raise InvalidComponentArgumentError(
                f"{component}: module_file must be a path, got {module_file!r}"
            )
        if "://" not in module_file:
            # The cache key hashes the file; an absolute path finds it from any directory.
            module_file = os.path.abspath(module_file)
    if ref is not None and not (isinstance(ref, str) and _RUN_FN_REF.match(ref)):
        raise InvalidComponentArgumentError(
            f"{component}: {function} must be 'package.module.function', got {ref!r}"
        )
    return module_file


def normalize_args(value: Any, name: str, component: str = "Trainer") -> dict[str, Any] | None:
    """TrainArgs / EvalArgs as a JSON dict: from a dict, a JSON string or a protobuf message.

    Messages are converted with TFX's field names, so ``trainer_pb2.TrainArgs(num_steps=100)``
    works without headrace depending on the tfx package.
    """
    where = f"{component}: {name}"
    if value is None:
        return None
    value = config_dict(
        value, where, expected="a dict such as {'num_steps': 100} or a trainer_pb2 message"
    )
    result: dict[str, Any] = {}
    for key, given in value.items():
        item: Any = given
        if key not in ARGS_FIELDS:
            hint = difflib.get_close_matches(str(key), ARGS_FIELDS, n=1)
            raise InvalidComponentArgumentError(
                f"{where}: unknown field {key!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; fields: {', '.join(ARGS_FIELDS)}"
            )
        if key == "num_steps":
            # MessageToDict writes 64-bit integers as strings.
            if isinstance(item, str) and item.isdigit():
                item = int(item)
            if not (isinstance(item, int) and not isinstance(item, bool) and item >= 0):
                raise InvalidComponentArgumentError(
                    f"{where}.num_steps must be a non-negative int, got {item!r}"
                )
        else:
            if not isinstance(item, (list, tuple)) or not all(
                isinstance(s, str) and s for s in item
            ):
                raise InvalidComponentArgumentError(
                    f"{where}.splits must be a list of split names, got {item!r}"
                )
            item = list(item)
        result[key] = item
    return result


class Trainer(BaseComponent):
    """Trains a model with the user's ``run_fn(fn_args)``, as TFX's Trainer.

    Give exactly one of ``module_file`` (a file defining ``run_fn``) or ``run_fn``
    (``"package.module.run_fn"``). ``run_fn`` must export a SavedModel to
    ``fn_args.serving_model_dir`` (``<model>/Format-Serving``); TensorBoard logs go to
    ``fn_args.model_run_dir``. ``train_args`` / ``eval_args`` are TFX's TrainArgs / EvalArgs,
    as dicts (``{"num_steps": 100}``) or messages. With ``base_model`` (for example a
    ``Resolver(LatestArtifactStrategy, model=Channel(type=Model))``) ``fn_args.base_model`` is
    the path of that model's serving directory, to warm-start from.
    """

    SPEC_CLASS = TrainerSpec
    EXECUTOR_SPEC = "headrace_trainer.executor:Executor"
    DRIVER_SPEC = "headrace_trainer.driver:run_driver"
    # tf.Transform's layers are Keras 2 (tf_keras): tf.keras must resolve to it, which
    # TensorFlow 2.16 decides once, at first use, from this variable.
    EXECUTOR_ENV = {"TF_USE_LEGACY_KERAS": "1"}

    def __init__(
        self,
        examples: Channel,
        transform_graph: Channel | None = None,
        schema: Channel | None = None,
        base_model: Channel | None = None,
        hyperparameters: Channel | None = None,
        module_file: str | None = None,
        run_fn: str | None = None,
        train_args: Any = None,
        eval_args: Any = None,
        custom_config: Mapping[str, Any] | None = None,
    ) -> None:
        module_file = user_function_args(module_file, run_fn, "Trainer", "run_fn")
        super().__init__(
            examples=examples,
            transform_graph=transform_graph,
            schema=schema,
            base_model=base_model,
            hyperparameters=hyperparameters,
            module_file=module_file,
            run_fn=run_fn,
            train_args=normalize_args(train_args, "train_args"),
            eval_args=normalize_args(eval_args, "eval_args"),
            custom_config=custom_config,
        )
