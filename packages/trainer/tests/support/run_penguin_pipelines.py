"""Runs the penguin Trainer pipelines the pipeline tests check, in a process of their own.

``python run_penguin_pipelines.py CONFIG.json`` (written by ``test_pipeline.py``) runs, with
LocalDagRunner and Importer nodes in front of the Trainer:

* ``caching``: run; run again; change only ``train_args``; edit the module file; edit a
  ``.py`` file beside it; run again. Each run's node statuses, artifact ids and, against the
  previous run, the reasons the Trainer re-ran (``headrace diff``'s).
* ``warm_start``: a ``Resolver(LatestArtifactStrategy)`` over every ``Model`` of the pipeline
  feeds the Trainer's ``base_model``: the first run has none, the second starts from the
  first's model. Each run's ``losses.json``.
* ``broken_module``: the module file made unimportable, one more run of ``caching``.

A fresh interpreter shows what a user gets: nothing sets ``TF_USE_LEGACY_KERAS`` (the test
removes it from the environment); the runner applies the Trainer's ``EXECUTOR_ENV``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from headrace_core import (
    Channel,
    Examples,
    Importer,
    LatestArtifactStrategy,
    Model,
    Pipeline,
    Resolver,
    Schema,
    TransformGraph,
)
from headrace_core.history import diff_runs
from headrace_core.metadata import MetadataStore
from headrace_core.orchestration.local import LocalDagRunner, RunResult
from headrace_trainer import Trainer

SPLIT_NAMES = '["train", "eval"]'


def _pipeline(
    config: dict[str, Any],
    name: str,
    module_file: Path,
    train_args: dict[str, Any],
    warm_start: bool = False,
) -> Pipeline:
    examples = Importer(
        source_uri=config["transformed_examples"],
        artifact_type=Examples,
        properties={"split_names": SPLIT_NAMES, "span": 0},
        custom_properties={"payload_format": "FORMAT_TF_EXAMPLE"},
    ).with_id("ImportExamples")
    transform_graph = Importer(
        source_uri=config["transform_graph"], artifact_type=TransformGraph
    ).with_id("ImportTransformGraph")
    schema = Importer(source_uri=config["schema"], artifact_type=Schema).with_id("ImportSchema")
    nodes: list[Any] = [examples, transform_graph, schema]
    base_model = None
    if warm_start:
        latest = Resolver(strategy_class=LatestArtifactStrategy, model=Channel(type=Model)).with_id(
            "LatestModel"
        )
        nodes.append(latest)
        base_model = latest.outputs["model"]
    trainer = Trainer(
        examples=examples.outputs["result"],
        transform_graph=transform_graph.outputs["result"],
        schema=schema.outputs["result"],
        base_model=base_model,
        module_file=str(module_file),
        train_args=train_args,
        eval_args={"num_steps": 5},
    )
    root = Path(config["work"]) / name
    return Pipeline(name, str(root), [*nodes, trainer])


def _summary(result: RunResult, previous: RunResult | None) -> dict[str, Any]:
    assert result.succeeded, json.dumps(result.to_json(), indent=2)
    trainer = result.results["Trainer"]
    [model] = trainer.outputs["model"]
    [model_run] = trainer.outputs["model_run"]
    losses_file = Path(model_run.uri) / "losses.json"
    reasons: list[str] = []
    if previous is not None:
        store = MetadataStore(result.metadata_url)
        diff = diff_runs(store, previous.run_id, result.run_id)
        [row] = [r for r in diff["nodes"] if r["node_id"] == "Trainer"]
        reasons = row["reasons"]
    return {
        "run_id": result.run_id,
        "statuses": {n: r.status for n, r in result.results.items()},
        "artifacts": {
            n: {k: [a.id for a in v] for k, v in r.outputs.items()}
            for n, r in result.results.items()
        },
        "model_uri": model.uri,
        "serving_model": (Path(model.uri) / "Format-Serving" / "saved_model.pb").is_file(),
        "tensorboard_files": sorted(
            str(p.relative_to(model_run.uri)) for p in Path(model_run.uri).rglob("events.*")
        ),
        "losses": json.loads(losses_file.read_text()) if losses_file.is_file() else None,
        "trainer_reasons": reasons,
    }


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    work = Path(config["work"])
    runner = LocalDagRunner(max_parallel=1)
    out: dict[str, Any] = {"env_at_start": os.environ.get("TF_USE_LEGACY_KERAS")}

    # A module folder of our own: the test edits it.
    module_dir = work / "module"
    module_dir.mkdir(parents=True)
    module_file = module_dir / "penguin_module.py"
    shutil.copy(config["penguin_module"], module_file)
    helper = module_dir / "penguin_helper.py"
    helper.write_text('"""Imported by nobody: a file beside the module file."""\n')

    runs: list[dict[str, Any]] = []
    previous: RunResult | None = None

    def run(train_args: dict[str, Any]) -> None:
        nonlocal previous
        result = runner.run(_pipeline(config, "caching", module_file, train_args))
        runs.append(_summary(result, previous))
        previous = result

    run({"num_steps": 20})
    run({"num_steps": 20})
    run({"num_steps": 30})
    module_file.write_text(
        module_file.read_text().replace("TRAIN_BATCH_SIZE = 20", "TRAIN_BATCH_SIZE = 16")
    )
    run({"num_steps": 30})
    helper.write_text(helper.read_text() + "VALUE = 1\n")
    run({"num_steps": 30})
    run({"num_steps": 30})
    out["caching"] = runs

    warm = [
        _summary(runner.run(_pipeline(config, "warm", module_file, {"num_steps": 100}, True)), None)
        for _ in range(2)
    ]
    out["warm_start"] = warm

    # A module file that no longer imports: the node fails, naming file and function.
    module_file.write_text(module_file.read_text() + "\ndef broken(:\n")
    failed = runner.run(_pipeline(config, "caching", module_file, {"num_steps": 30}))
    trainer = failed.results["Trainer"]
    out["broken_module"] = {
        "module_file": str(module_file),
        "succeeded": failed.succeeded,
        "status": trainer.status,
        "message": trainer.message,
        "error_has_traceback": "Traceback" in (trainer.error or ""),
        "published": {k: [a.id for a in v] for k, v in trainer.outputs.items()},
        "staging_left": sorted(
            str(p.relative_to(work)) for p in (work / "caching" / "Trainer").rglob("*.staging")
        ),
    }
    out["env_at_end"] = os.environ.get("TF_USE_LEGACY_KERAS")
    import tensorflow as tf

    out["tf_keras"] = tf.keras.__name__
    Path(config["output"]).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
