"""The Evaluator in pipelines run by LocalDagRunner: Importers feed it, a latest-blessed-model
Resolver gives it a baseline from the second run on, a Cond on its ``blessed`` property guards
the node that would push, and ``headrace show`` explains a model that was not blessed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from evaluator_components import PushBlessed
from evaluator_testing import PENGUIN_CONFIG, SPLIT_NAMES, PenguinData

from headrace_core import (
    Channel,
    Cond,
    Examples,
    Importer,
    LatestBlessedModelStrategy,
    Model,
    ModelBlessing,
    Pipeline,
    Resolver,
    Schema,
)
from headrace_core.orchestration.local import LocalDagRunner, RunResult
from headrace_core.testing import show_artifact

IMPOSSIBLE = """
model_specs { label_key: "species" }
metrics_specs {
  metrics {
    class_name: "SparseCategoricalAccuracy"
    threshold { value_threshold { lower_bound { value: 1.01 } } }
  }
}
"""


def _pipeline(root: Path, penguin: PenguinData, model_uri: Path) -> Pipeline:
    from headrace_evaluator import Evaluator

    examples = Importer(
        source_uri=str(penguin.examples),
        artifact_type=Examples,
        properties={"split_names": SPLIT_NAMES, "span": 0},
    ).with_id("ImportExamples")
    model = Importer(source_uri=str(model_uri), artifact_type=Model).with_id("ImportModel")
    schema = Importer(source_uri=str(penguin.schema), artifact_type=Schema).with_id("ImportSchema")
    latest = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=Model),
        model_blessing=Channel(type=ModelBlessing),
    ).with_id("LatestBlessedModel")
    evaluator = Evaluator(
        examples=examples.outputs["result"],
        model=model.outputs["result"],
        baseline_model=latest.outputs["model"],
        eval_config=PENGUIN_CONFIG,
        schema=schema.outputs["result"],
    )
    strict = Evaluator(
        examples=examples.outputs["result"], model=model.outputs["result"], eval_config=IMPOSSIBLE
    ).with_id("StrictEvaluator")
    nodes: list[Any] = [examples, model, schema, latest, evaluator, strict]
    for node, push_id in ((evaluator, "Push"), (strict, "StrictPush")):
        with Cond(node.outputs["blessing"].future()[0].custom_property("blessed") == 1):
            nodes.append(
                PushBlessed(
                    model=model.outputs["result"], blessing=node.outputs["blessing"]
                ).with_id(push_id)
            )
    return Pipeline("evaluate", str(root), nodes)


def _statuses(result: RunResult) -> dict[str, str]:
    return {n: r.status for n, r in result.results.items()}


def _stored_custom_properties(root: Path, artifact_id: int | None) -> dict[str, Any]:
    """What ML Metadata holds, read back through its own API."""
    from headrace_core.metadata import MetadataStore, default_metadata_url

    store = MetadataStore(default_metadata_url(str(root)))
    [proto] = store.call("get_artifacts_by_id", [artifact_id])
    assert store.artifact_type_name(proto.type_id) == "ModelBlessing"
    values: dict[str, Any] = {}
    for key, value in proto.custom_properties.items():
        kind = value.WhichOneof("value")
        values[key] = getattr(value, kind)
    return values


@pytest.fixture(scope="module")
def runs(
    penguin: PenguinData, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RunResult, RunResult, RunResult]:
    """Run 1 with the trained model; run 2 with a retrained one (the same weights, another
    artifact), compared with run 1's; run 3 the same as run 2, its Evaluator inputs unchanged
    but for the baseline, now run 2's model: the candidate itself."""
    work = tmp_path_factory.mktemp("pipeline")
    root = work / "root"
    retrained = work / "retrained"
    shutil.copytree(penguin.model, retrained)
    first = LocalDagRunner(max_parallel=1).run(_pipeline(root, penguin, penguin.model))
    second = LocalDagRunner(max_parallel=1).run(_pipeline(root, penguin, retrained))
    third = LocalDagRunner(max_parallel=1).run(_pipeline(root, penguin, retrained))
    return root, first, second, third


def test_first_run_is_blessed_without_baseline_and_pushes(runs: Any) -> None:
    root, first, *_ = runs
    assert first.succeeded, first.to_json()
    assert _statuses(first) == {
        "ImportExamples": "complete",
        "ImportModel": "complete",
        "ImportSchema": "complete",
        "LatestBlessedModel": "complete",
        "Evaluator": "complete",
        "StrictEvaluator": "complete",
        "Push": "complete",
        "StrictPush": "skipped",
    }
    [model] = first.results["ImportModel"].outputs["result"]
    [blessing] = first.results["Evaluator"].outputs["blessing"]
    [evaluation] = first.results["Evaluator"].outputs["evaluation"]
    execution_id = first.results["Evaluator"].execution_id
    assert Path(blessing.uri) == root / "Evaluator" / "blessing" / str(execution_id)
    assert (Path(blessing.uri) / "BLESSED").is_file()
    assert (Path(evaluation.uri) / "metrics.json").is_file()
    stored = _stored_custom_properties(root, blessing.id)
    assert stored["blessed"] == 1
    assert stored["current_model"] == model.uri
    assert stored["current_model_id"] == model.id
    assert "baseline_model" not in stored and "baseline_model_id" not in stored
    [pushed] = first.results["Push"].outputs["pushed_model"]
    assert (Path(pushed.uri) / "pushed_from.txt").read_text() == model.uri

    shown = show_artifact(root, blessing.id)
    assert shown["summary"].splitlines()[:3] == [
        f"ModelBlessing #{blessing.id} at {blessing.uri}: BLESSED",
        f"model: {model.uri} (#{model.id})",
        "baseline: none",
    ]
    assert "waived without a baseline model (1):" in shown["summary"]


def test_a_model_failing_its_threshold_is_explained_byshow_artifact(runs: Any) -> None:
    root, first, *_ = runs
    assert "custom_property('blessed') == 1 is false (value: 0)" in (
        first.results["StrictPush"].message
    )
    [blessing] = first.results["StrictEvaluator"].outputs["blessing"]
    [evaluation] = first.results["StrictEvaluator"].outputs["evaluation"]
    assert _stored_custom_properties(root, blessing.id)["blessed"] == 0

    shown = show_artifact(root, blessing.id)
    lines = shown["summary"].splitlines()
    assert lines[0] == f"ModelBlessing #{blessing.id} at {blessing.uri}: NOT_BLESSED"
    assert lines[3:5] == [
        "NOT_BLESSED: 1 validation failed",
        "failed validations (1):",
    ]
    assert lines[5].startswith("  sparse_categorical_accuracy on slice Overall is ") and lines[
        5
    ].endswith(", failing threshold value >= 1.01")
    [failure] = shown["data"]["failures"]
    assert failure["threshold"] == {"value_threshold": {"lower_bound": 1.01}}
    assert shown["data"]["blessed"] == 0

    shown = show_artifact(root, evaluation.id)
    assert shown["html"] == str(Path(evaluation.uri) / "metrics.html")
    assert lines[5] in shown["summary"].splitlines()
    assert shown["data"]["slices"][0]["slice"] == "Overall"


def test_second_run_compares_with_the_latest_blessed_model(runs: Any) -> None:
    root, first, second, _ = runs
    assert second.succeeded, second.to_json()
    statuses = _statuses(second)
    assert statuses["Evaluator"] == "complete"
    assert statuses["Push"] == "complete"
    [model] = first.results["ImportModel"].outputs["result"]
    [retrained] = second.results["ImportModel"].outputs["result"]
    [baseline] = second.results["LatestBlessedModel"].outputs["model"]
    assert baseline.id == model.id != retrained.id
    [blessing] = second.results["Evaluator"].outputs["blessing"]
    stored = _stored_custom_properties(root, blessing.id)
    assert stored == {
        **stored,
        "blessed": 1,
        "current_model": retrained.uri,
        "current_model_id": retrained.id,
        "baseline_model": model.uri,
        "baseline_model_id": model.id,
    }
    validation = json.loads((Path(blessing.uri) / "validation.json").read_text())
    assert validation["waived_change_thresholds"] == []
    assert validation["thresholds"][0]["threshold_text"] == (
        "value >= 0.6; change vs baseline >= -1e-10 (higher is better)"
    )
    [evaluation] = second.results["Evaluator"].outputs["evaluation"]
    overall = json.loads((Path(evaluation.uri) / "metrics.json").read_text())["slices"][0]
    assert overall["diff"]["sparse_categorical_accuracy"] == 0
    shown = show_artifact(root, blessing.id)
    assert shown["summary"].splitlines()[2] == f"baseline: {model.uri} (#{model.id})"


def test_the_candidate_as_its_own_baseline(runs: Any) -> None:
    # What a second run of the penguin pipeline does when the Trainer is cached.
    _, _, second, third = runs
    message = third.results["Evaluator"].message or ""
    assert third.succeeded, message
    [retrained] = second.results["ImportModel"].outputs["result"]
    [baseline] = third.results["LatestBlessedModel"].outputs["model"]
    assert baseline.id == retrained.id
    [blessing] = third.results["Evaluator"].outputs["blessing"]
    assert blessing.custom_properties["blessed"] == 1
