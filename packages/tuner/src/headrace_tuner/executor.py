"""The Tuner's executor: builds the Trainer's ``FnArgs``, calls the user's ``tuner_fn`` and
runs the search it returns, then writes the best hyperparameters and every trial's result.

Imported only when a node runs. ``TF_USE_LEGACY_KERAS=1`` is set before TensorFlow is
imported (the runners apply ``EXECUTOR_ENV``; this covers calling the executor directly),
and KerasTuner is bound to the same Keras 2 (:mod:`headrace_tuner._keras`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # after the variable above: tf.keras reads it once

from headrace_core import Artifact, BaseExecutor
from headrace_core.executor import report_progress, single_input
from headrace_core.usercode import load_user_function
from headrace_trainer.executor import (
    common_fn_args,
    disable_autograph_for_tf_keras,
    tf_keras_in_use,
)
from headrace_tuner._keras import install_hook, keras_tuner_is_multi_backend
from headrace_tuner.component import normalize_tune_args
from headrace_tuner.driver import TUNER_FN
from headrace_tuner.errors import TunerError, UserModuleError

__all__ = ["BEST_HYPERPARAMETERS_FILE", "TUNER_RESULTS_FILE", "Executor", "search"]

log = logging.getLogger(__name__)

#: TFX's file names in the ``best_hyperparameters`` and ``tuner_results`` artifacts.
BEST_HYPERPARAMETERS_FILE = "best_hyperparameters.txt"
TUNER_RESULTS_FILE = "tuner_results.json"


def _load_tuner_fn(exec_properties: Mapping[str, Any]) -> Any:
    module_file = exec_properties.get("module_file")
    ref = exec_properties.get("tuner_fn")
    return load_user_function(
        module_file=str(module_file) if module_file else None,
        module_path=str(ref) if ref else None,
        function=TUNER_FN,
        component="Tuner",
        signature="(fn_args)",
        error=UserModuleError,
    )


def _check_keras() -> None:
    if tf_keras_in_use() and keras_tuner_is_multi_backend():
        raise TunerError(
            "Tuner: KerasTuner was imported in this process on Keras 3 before headrace_tuner "
            "was, so it will refuse the tf.keras (Keras 2) models a tuner_fn builds; import "
            "headrace_tuner (or build the pipeline) before anything imports keras_tuner, or "
            "run the pipeline with isolation='subprocess'"
        )


def _describe(exec_properties: Mapping[str, Any]) -> str:
    if exec_properties.get("module_file"):
        return f"tuner_fn in module_file {exec_properties['module_file']}"
    return f"tuner_fn {exec_properties.get('tuner_fn')!r}"


def _report_trials(tuner: Any) -> None:
    """Show "trial 3/10" on the node's progress line as trials end."""
    total = getattr(getattr(tuner, "oracle", None), "max_trials", None)
    ended = 0
    on_trial_end = tuner.on_trial_end

    def report(trial: Any) -> None:
        nonlocal ended
        on_trial_end(trial)
        ended += 1
        score = getattr(trial, "score", None)
        report_progress(
            f"trial {ended}"
            + (f"/{total}" if total else "")
            + (f", score {score:.4g}" if isinstance(score, (int, float)) else "")
        )

    tuner.on_trial_end = report


def search(
    input_dict: dict[str, list[Artifact]],
    exec_properties: dict[str, Any],
    working_dir: str,
) -> Any:
    """Run one hyperparameter search as ``tuner_fn`` describes it; the tuner, searched."""
    install_hook()
    normalize_tune_args(exec_properties.get("tune_args"))  # refuses parallel trials
    fn_args = common_fn_args(
        input_dict, exec_properties, working_dir=working_dir, component="Tuner"
    )
    tuner_fn = _load_tuner_fn(exec_properties)
    _check_keras()
    disable_autograph_for_tf_keras()
    result = tuner_fn(fn_args)
    tuner = getattr(result, "tuner", None)
    fit_kwargs = getattr(result, "fit_kwargs", None)
    if tuner is None or not hasattr(tuner, "search") or not isinstance(fit_kwargs, Mapping):
        raise TunerError(
            f"Tuner: {_describe(exec_properties)} returned {type(result).__name__}, not a "
            "TunerFnResult(tuner=<a KerasTuner tuner>, fit_kwargs={...})"
        )
    _report_trials(tuner)
    tuner.search_space_summary()
    started = time.monotonic()
    tuner.search(**fit_kwargs)
    log.info("Tuner: search took %.1f s", time.monotonic() - started)
    tuner.results_summary()
    return tuner


def _completed_trials(tuner: Any) -> list[Any]:
    from keras_tuner.engine import trial as trial_module

    completed = trial_module.TrialStatus.COMPLETED
    trials = tuner.oracle.get_best_trials(len(tuner.oracle.trials))
    return [t for t in trials if t.status == completed and t.hyperparameters.values]


def write_results(tuner: Any, best_uri: str, results_uri: str) -> dict[str, Any]:
    """``best_hyperparameters.txt`` and ``tuner_results.json``, as TFX writes them."""
    trials = _completed_trials(tuner)
    if not trials:
        raise TunerError(
            "Tuner: the search completed no trial, so there are no best hyperparameters; see "
            "the node's log for each trial's error"
        )
    best = tuner.get_best_hyperparameters(1)[0].get_config()
    results = [
        {"trial_id": t.trial_id, "score": t.score, **t.hyperparameters.values} for t in trials
    ]
    for uri, name, value in (
        (best_uri, BEST_HYPERPARAMETERS_FILE, best),
        (results_uri, TUNER_RESULTS_FILE, results),
    ):
        tf.io.gfile.makedirs(uri)
        with tf.io.gfile.GFile(os.path.join(uri, name), "w") as f:
            f.write(json.dumps(value))
    log.info("Tuner: best hyperparameters %s", best.get("values"))
    return best


class Executor(BaseExecutor):
    """TFX's Tuner executor: one search, its best hyperparameters and every trial's score."""

    def Do(  # noqa: N802 - TFX's name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        best = single_input(
            output_dict,
            "best_hyperparameters",
            component="Tuner",
            what="output",
            error=TunerError,
        )
        results = single_input(
            output_dict, "tuner_results", component="Tuner", what="output", error=TunerError
        )
        tuner = search(input_dict, exec_properties, self._get_tmp_dir())
        write_results(tuner, best.uri, results.uri)
