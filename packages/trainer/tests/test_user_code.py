"""A Trainer module file's functions in Beam worker processes a ``run_fn`` starts.

The run_fn below maps a function of its own module (which uses a helper beside it) over the
penguin eval examples on the multi-process DirectRunner, TFX's own Beam setting: the workers
are fresh interpreters that must import that function by name.
"""

from __future__ import annotations

import json
from pathlib import Path

from trainer_testing import PenguinData

from headrace_core import Model, ModelRun

MODULE = """\
import hrtr_tagging

MULTI_PROCESS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def tag(record):
    return hrtr_tagging.TAG


def run_fn(fn_args):
    import json
    import os

    import apache_beam as beam
    import tensorflow as tf

    out = os.path.join(fn_args.model_run_dir, "tags")
    with beam.Pipeline(argv=MULTI_PROCESS) as pipeline:
        _ = (
            pipeline
            | beam.io.ReadFromTFRecord(fn_args.eval_files[0])
            | beam.Map(tag)
            | beam.combiners.Count.PerElement()
            | beam.Map(json.dumps)
            | beam.io.WriteToText(out, shard_name_template="")
        )
    module = tf.Module()
    module.scale = tf.Variable(1.0)
    tf.saved_model.save(module, fn_args.serving_model_dir)
"""


def test_run_fn_functions_import_by_name_in_worker_processes(
    penguin: PenguinData, tmp_path: Path
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    (folder / "trainer_module.py").write_text(MODULE)
    (folder / "hrtr_tagging.py").write_text('TAG = "from the helper"\n')
    from headrace_trainer.executor import Executor

    model, model_run = Model(str(tmp_path / "model")), ModelRun(str(tmp_path / "model_run"))
    for artifact in (model, model_run):
        Path(artifact.uri).mkdir()
    Executor().Do(
        {
            "examples": [penguin.examples_artifact(transformed=True)],
            "transform_graph": [penguin.transform_artifact()],
            "schema": [penguin.schema_artifact()],
        },
        {"model": [model], "model_run": [model_run]},
        {"module_file": str(folder / "trainer_module.py"), "train_args": {"num_steps": 1}},
    )
    tags = (Path(model_run.uri) / "tags").read_text().splitlines()
    assert [json.loads(t) for t in tags] == [["from the helper", 112]]
