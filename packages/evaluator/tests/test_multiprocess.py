"""The Evaluator with TFX's own Beam arguments: TFMA's work in worker processes of the
multi-process DirectRunner gives the metrics of the in-memory run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evaluator_testing import PENGUIN_CONFIG, SPLIT_NAMES, PenguinData

from headrace_core import Examples, Importer, Model, Pipeline, Schema
from headrace_core.orchestration.local import LocalDagRunner

MULTI_PROCESS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def _pipeline(root: Path, penguin: PenguinData, beam_args: list[str]) -> Pipeline:
    from headrace_evaluator import Evaluator

    examples = Importer(
        source_uri=str(penguin.examples),
        artifact_type=Examples,
        properties={"split_names": SPLIT_NAMES, "span": 0},
    ).with_id("ImportExamples")
    model = Importer(source_uri=str(penguin.model), artifact_type=Model).with_id("ImportModel")
    schema = Importer(source_uri=str(penguin.schema), artifact_type=Schema).with_id("ImportSchema")
    evaluator = Evaluator(
        examples=examples.outputs["result"],
        model=model.outputs["result"],
        eval_config=PENGUIN_CONFIG,
        schema=schema.outputs["result"],
    )
    return Pipeline(
        "evaluate_mp", str(root), [examples, model, schema, evaluator], beam_pipeline_args=beam_args
    )


def _metrics(result: Any) -> list[dict[str, Any]]:
    assert result.succeeded, result.to_json()
    [evaluation] = result.results["Evaluator"].outputs["evaluation"]
    rows: list[dict[str, Any]] = json.loads((Path(evaluation.uri) / "metrics.json").read_text())
    return rows


def test_multi_process_beam_gives_the_same_metrics(penguin: PenguinData, tmp_path: Path) -> None:
    in_memory = LocalDagRunner(max_parallel=1).run(_pipeline(tmp_path / "a", penguin, []))
    multi = LocalDagRunner(max_parallel=1).run(_pipeline(tmp_path / "b", penguin, MULTI_PROCESS))
    assert _metrics(multi) == _metrics(in_memory)
