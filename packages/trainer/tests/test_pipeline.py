"""The Trainer in pipelines run by LocalDagRunner: caching, what invalidates it, warm start.

The pipelines run once, in a fresh interpreter without ``TF_USE_LEGACY_KERAS`` in its
environment (``support/run_penguin_pipelines.py``); the tests below check what they did.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from trainer_testing import FIXTURES, PenguinData

SCRIPT = Path(__file__).parent / "support" / "run_penguin_pipelines.py"
IMPORTERS = ("ImportExamples", "ImportTransformGraph", "ImportSchema")


@pytest.fixture(scope="module")
def ran(penguin: PenguinData, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("pipelines")
    config = {
        "work": str(work),
        "output": str(work / "result.json"),
        "penguin_module": str(FIXTURES / "penguin_module.py"),
        "transformed_examples": str(penguin.transformed_examples),
        "transform_graph": str(penguin.transform_graph),
        "schema": str(penguin.schema),
    }
    (work / "config.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(work / "config.json")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    result: dict[str, Any] = json.loads(Path(config["output"]).read_text())
    return result


def test_users_set_no_environment_variables(ran: dict[str, Any]) -> None:
    assert ran["env_at_start"] is None
    assert ran["env_at_end"] == "1"  # applied by the runner from Trainer.EXECUTOR_ENV
    assert ran["tf_keras"].startswith("tf_keras")


def test_cached_then_rerun_only_for_what_changed(ran: dict[str, Any]) -> None:
    first, second, steps, module, helper, again = ran["caching"]

    assert first["statuses"] == {
        "ImportExamples": "complete",
        "ImportTransformGraph": "complete",
        "ImportSchema": "complete",
        "Trainer": "complete",
    }
    assert first["serving_model"]
    assert first["tensorboard_files"], "TensorBoard logs in model_run"
    assert first["losses"]["final_eval_loss"] < first["losses"]["initial_eval_loss"]

    # Run twice: the Trainer is cached, its outputs are the first run's.
    assert second["statuses"]["Trainer"] == "cached"
    assert second["artifacts"]["Trainer"] == first["artifacts"]["Trainer"]

    # Only train_args changed: the Trainer re-runs, upstream artifacts are the same ones.
    assert steps["statuses"]["Trainer"] == "complete"
    assert steps["trainer_reasons"] == [
        'parameter \'train_args\': {"num_steps": 20} -> {"num_steps": 30}'
    ]
    for later in (second, steps, module, helper, again):
        for node in IMPORTERS:
            assert later["artifacts"][node] == first["artifacts"][node], node
    assert steps["artifacts"]["Trainer"] != first["artifacts"]["Trainer"]

    # Editing the module file, then a file beside it, re-runs the Trainer each time.
    assert module["statuses"]["Trainer"] == "complete"
    assert module["trainer_reasons"] == ["module file 'penguin_module.py' changed"]
    assert helper["statuses"]["Trainer"] == "complete"
    assert helper["trainer_reasons"] == ["module file 'penguin_helper.py' changed"]

    # Nothing changed since: cached again.
    assert again["statuses"]["Trainer"] == "cached"
    assert again["artifacts"]["Trainer"] == helper["artifacts"]["Trainer"]


def test_warm_start_from_the_latest_model(ran: dict[str, Any]) -> None:
    cold, warm = ran["warm_start"]
    assert cold["statuses"]["LatestModel"] == "complete"
    assert cold["losses"]["warm_start"] is False
    assert warm["losses"]["warm_start"] is True
    # The resolver gave run 2 run 1's model: it starts where run 1 ended (same weights, same
    # eval data)...
    assert warm["losses"]["initial_eval_loss"] == pytest.approx(
        cold["losses"]["final_eval_loss"], rel=1e-4
    )
    # ...far below where an untrained network starts.
    assert warm["losses"]["initial_eval_loss"] < 0.2 * cold["losses"]["initial_eval_loss"]
    assert warm["model_uri"] != cold["model_uri"]


def test_a_module_that_fails_to_import_fails_the_node(ran: dict[str, Any]) -> None:
    broken = ran["broken_module"]
    assert not broken["succeeded"]
    assert broken["status"] == "failed"
    assert broken["message"].startswith(
        f"UserModuleError: Trainer: module_file {broken['module_file']} failed to import, so "
        "run_fn cannot be loaded: SyntaxError: "
    )
    assert broken["error_has_traceback"]
    assert broken["published"] == {}
    assert broken["staging_left"] == []
