"""The Tuner in a pipeline run by LocalDagRunner: its best hyperparameters feed the Trainer,
and a second run is cached."""

from __future__ import annotations

import json
from pathlib import Path

from tuner_testing import FIXTURES, SPLIT_NAMES, PenguinData, read_json

from headrace_core import Examples, Importer, Pipeline, Schema
from headrace_core.orchestration.local import LocalDagRunner
from headrace_core.runtime import Status
from headrace_trainer import Trainer
from headrace_tuner import Tuner

MODULE = str(FIXTURES / "tuner_module.py")


def _pipeline(root: Path, penguin: PenguinData) -> Pipeline:
    examples = Importer(
        source_uri=str(penguin.examples),
        artifact_type=Examples,
        properties={"split_names": SPLIT_NAMES},
    ).with_id("ImportExamples")
    schema = Importer(source_uri=str(penguin.schema), artifact_type=Schema).with_id("ImportSchema")
    tuner = Tuner(
        examples=examples.outputs["result"],
        schema=schema.outputs["result"],
        module_file=MODULE,
        train_args={"num_steps": 5},
        eval_args={"num_steps": 2},
        custom_config={"max_trials": 2},
    )
    trainer = Trainer(
        examples=examples.outputs["result"],
        schema=schema.outputs["result"],
        hyperparameters=tuner.outputs["best_hyperparameters"],
        module_file=MODULE,
        train_args={"num_steps": 5},
        eval_args={"num_steps": 2},
    )
    return Pipeline("tuning", str(root), [examples, schema, tuner, trainer])


def test_best_hyperparameters_reach_the_trainer_then_everything_is_cached(
    penguin: PenguinData, tmp_path: Path
) -> None:
    first = LocalDagRunner(max_parallel=1).run(_pipeline(tmp_path, penguin))
    assert first.succeeded, first.to_json()
    [best] = first.results["Tuner"].outputs["best_hyperparameters"]
    [results] = first.results["Tuner"].outputs["tuner_results"]
    [model_run] = first.results["Trainer"].outputs["model_run"]
    chosen = read_json(Path(best.uri) / "best_hyperparameters.txt")["values"]
    assert read_json(Path(model_run.uri) / "hyperparameters.json") == chosen
    assert read_json(Path(results.uri) / "tuner_results.json")[0]["trial_id"]

    second = LocalDagRunner(max_parallel=1).run(_pipeline(tmp_path, penguin))
    assert second.succeeded, second.to_json()
    statuses = {node: second.results[node].status for node in ("Tuner", "Trainer")}
    assert statuses == dict.fromkeys(statuses, Status.CACHED), json.dumps(statuses)
