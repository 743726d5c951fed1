"""A TFLite model through a pipeline run by LocalDagRunner: the Trainer's ``run_fn`` rewrites
its SavedModel with TFX's rewriting API, the Pusher pushes the ``tflite`` model like any
model, and the pushed copy predicts what the SavedModel predicts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from trainer_testing import SPLIT_NAMES, TFLITE_MODULE, PenguinData, eval_features, tflite_predict

from headrace_core import Examples, Importer, Pipeline, Schema, TransformGraph
from headrace_core.metadata import MetadataStore, get_value
from headrace_core.orchestration.local import LocalDagRunner
from headrace_trainer import Trainer

pytest.importorskip("headrace_pusher", reason="the pipeline pushes with headrace-pusher")


def _pipeline(penguin: PenguinData, root: Path, serving: Path) -> Pipeline:
    from headrace_pusher import Pusher

    examples = Importer(
        source_uri=str(penguin.transformed_examples),
        artifact_type=Examples,
        properties={"split_names": SPLIT_NAMES, "span": 0},
        custom_properties={"payload_format": "FORMAT_TF_EXAMPLE"},
    ).with_id("ImportExamples")
    graph = Importer(source_uri=str(penguin.transform_graph), artifact_type=TransformGraph).with_id(
        "ImportTransformGraph"
    )
    schema = Importer(source_uri=str(penguin.schema), artifact_type=Schema).with_id("ImportSchema")
    trainer = Trainer(
        examples=examples.outputs["result"],
        transform_graph=graph.outputs["result"],
        schema=schema.outputs["result"],
        module_file=str(TFLITE_MODULE),
        train_args={"num_steps": 100},
        eval_args={"num_steps": 5},
    )
    pusher = Pusher(
        model=trainer.outputs["model"],
        push_destination={"filesystem": {"base_directory": str(serving)}},
    )
    return Pipeline("tflite", str(root), [examples, graph, schema, trainer, pusher])


def test_trainer_to_pusher_with_a_tflite_model(penguin: PenguinData, tmp_path: Path) -> None:
    import tensorflow as tf

    serving = tmp_path / "serving" / "penguin"
    result = LocalDagRunner(max_parallel=1).run(_pipeline(penguin, tmp_path / "root", serving))
    assert result.succeeded, result.to_json()

    [model] = result.results["Trainer"].outputs["model"]
    [model_run] = result.results["Trainer"].outputs["model_run"]
    [pushed] = result.results["Pusher"].outputs["pushed_model"]
    store = MetadataStore(result.metadata_url)
    [recorded] = store.call("get_artifacts_by_id", [model.id])
    assert get_value(recorded.custom_properties["model_format"]) == "tflite"

    [version] = [p for p in serving.iterdir() if p.name.isdigit()]
    assert pushed.get_custom_property("pushed_destination") == str(version)
    assert sorted(os.listdir(version)) == ["assets", "tflite"]
    assert (version / "tflite").read_bytes() == (
        Path(model.uri) / "Format-Serving" / "tflite"
    ).read_bytes()

    features, _ = eval_features(penguin, rows=8)
    lite = tflite_predict(version / "tflite", features)
    signature = tf.saved_model.load(str(Path(model_run.uri) / "saved_model")).signatures[
        "serving_default"
    ]
    full = signature(**{k: tf.constant(v) for k, v in features.items()})["logits"].numpy()
    assert lite.shape == (8, 3)
    np.testing.assert_allclose(lite, full, rtol=1e-5, atol=1e-5)
