"""``tuner_fn`` for the penguin model: KerasTuner searches the learning rate and depth that
``penguin_utils.run_fn`` then trains with (TFX's Tuner). The main pipeline trains with fixed
hyperparameters and does not use this file; the tfx.v1-style pipeline in
``integration_tests/pipelines/tfx_style`` does.
"""

from __future__ import annotations

from typing import Any

import keras_tuner
import penguin_utils  # beside this file: the loader imports it, and it is in the cache key
import tensorflow_transform as tft
from headrace_tuner import TunerFnResult

_TRIALS = 4


def _model(hp: keras_tuner.HyperParameters) -> Any:
    return penguin_utils.build_keras_model(
        learning_rate=hp.Choice("learning_rate", [1e-2, 1e-3], default=1e-2),
        num_layers=hp.Int("num_layers", 1, 3, default=2),
    )


def tuner_fn(fn_args: Any) -> TunerFnResult:
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    tuner = keras_tuner.RandomSearch(
        _model,
        max_trials=_TRIALS,
        objective=keras_tuner.Objective("val_sparse_categorical_accuracy", "max"),
        directory=fn_args.working_dir,
        project_name="penguin_tuning",
        seed=1,
    )
    batches = {"train": (fn_args.train_files, 20), "eval": (fn_args.eval_files, 10)}
    train, evaluation = (
        penguin_utils.input_fn(files, fn_args.data_accessor, tf_transform_output, size)
        for files, size in batches.values()
    )
    return TunerFnResult(
        tuner=tuner,
        fit_kwargs={
            "x": train,
            "validation_data": evaluation,
            "steps_per_epoch": fn_args.train_steps,
            "validation_steps": fn_args.eval_steps,
        },
    )
