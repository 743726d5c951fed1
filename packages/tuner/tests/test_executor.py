"""The executor on the real penguin data: a real KerasTuner search, TFX's output files, and
the errors a user's tuner_fn can cause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tuner_testing import FIXTURES, PenguinData, read_json

from headrace_core import HyperParameters, TunerResults
from headrace_trainer import TrainerError
from headrace_tuner import TunerError, UserModuleError
from headrace_tuner.executor import Executor

MODULE = str(FIXTURES / "tuner_module.py")


def _run(penguin: PenguinData, tmp_path: Path, **properties: Any) -> tuple[Path, Path]:
    best, results = tmp_path / "best", tmp_path / "results"
    exec_properties = {
        "module_file": MODULE,
        "train_args": {"num_steps": 5},
        "eval_args": {"num_steps": 2},
        "custom_config": {"max_trials": 3},
        **properties,
    }
    Executor().Do(
        {"examples": [penguin.examples_artifact()], "schema": [penguin.schema_artifact()]},
        {
            "best_hyperparameters": [HyperParameters(str(best))],
            "tuner_results": [TunerResults(str(results))],
        },
        exec_properties,
    )
    return best, results


@pytest.fixture(scope="module")
def searched(penguin: PenguinData, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    best, results = _run(penguin, tmp_path_factory.mktemp("search"))
    return read_json(best / "best_hyperparameters.txt"), read_json(results / "tuner_results.json")


def test_best_hyperparameters_are_keras_tuner_config(searched: tuple[Any, Any]) -> None:
    import keras_tuner

    best, _ = searched
    hp = keras_tuner.HyperParameters.from_config(best)  # what a Trainer's run_fn does
    assert set(hp.values) == {"learning_rate", "num_layers"}
    assert hp.get("learning_rate") in (1e-2, 1e-3)
    assert hp.get("num_layers") in (1, 2)


def test_tuner_results_list_every_trial_best_first(searched: tuple[Any, Any]) -> None:
    best, results = searched
    assert 1 <= len(results) <= 3  # RandomSearch stops early when the space is exhausted
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert {k: results[0][k] for k in best["values"]} == best["values"]
    assert len({r["trial_id"] for r in results}) == len(results)


def test_a_result_that_is_not_a_tuner_fn_result(penguin: PenguinData, tmp_path: Path) -> None:
    with pytest.raises(TunerError, match=r"returned dict, not a TunerFnResult"):
        _run(penguin, tmp_path, module_file=None, tuner_fn="tuner_module.not_a_result")


def test_a_module_without_tuner_fn(penguin: PenguinData, tmp_path: Path) -> None:
    module = tmp_path / "empty_module.py"
    module.write_text("def helper():\n    pass\n")
    with pytest.raises(UserModuleError, match=r"tuner_fn") as e:
        _run(penguin, tmp_path, module_file=str(module))
    assert str(module) in str(e.value)


def test_a_missing_split_names_the_tuner(penguin: PenguinData, tmp_path: Path) -> None:
    with pytest.raises(TrainerError, match=r"^Tuner: examples .* have no split 'test'"):
        _run(penguin, tmp_path, eval_args={"num_steps": 2, "splits": ["test"]})


def test_parallel_trials_are_refused_at_run_time_too(penguin: PenguinData, tmp_path: Path) -> None:
    from headrace_core import InvalidComponentArgumentError

    with pytest.raises(InvalidComponentArgumentError, match="one trial at a time"):
        _run(penguin, tmp_path, tune_args={"num_parallel_trials": 2})
