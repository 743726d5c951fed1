"""The executor on the real penguin data with real models: TFMA on Beam, the blessing, the
readable outputs, change thresholds with and without a baseline, slicing, and bad inputs."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evaluator_testing import ONLY_CHANGE, PENGUIN_CONFIG, PenguinData, run_evaluator

from headrace_core import ModelBlessing, ModelEvaluation
from headrace_evaluator import EvaluatorError
from headrace_evaluator.viewer import summarize_blessing, summarize_evaluation

ACCURACY = "sparse_categorical_accuracy"


def _read(artifact: ModelEvaluation | ModelBlessing, name: str) -> Any:
    return json.loads((Path(artifact.uri) / name).read_text())


def _rows(evaluation: ModelEvaluation) -> dict[str, dict[str, Any]]:
    return {row["slice"]: row for row in _read(evaluation, "metrics.json")["slices"]}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def first_run(
    penguin: PenguinData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ModelEvaluation, ModelBlessing, list[str]]]:
    """The trained model with the pipeline's config and no baseline: a first run."""
    records = _Records()
    logger = logging.getLogger("headrace_evaluator.executor")
    logger.addHandler(records)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        evaluation, blessing = run_evaluator(
            tmp_path_factory.mktemp("first"), penguin, PENGUIN_CONFIG
        )
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    yield evaluation, blessing, records.messages


def test_value_threshold_met_blesses(first_run: Any, penguin: PenguinData) -> None:
    evaluation, blessing, _ = first_run
    assert sorted(p.name for p in Path(blessing.uri).iterdir()) == ["BLESSED", "validation.json"]
    assert blessing.custom_properties == {
        "blessed": 1,
        "current_model": str(penguin.model),
        "current_model_id": 3,
    }
    overall = _rows(evaluation)["Overall"]
    assert overall["metrics"]["example_count"] == 112  # every third of 334 rows
    assert overall["metrics"][ACCURACY] > 0.9
    validation = _read(blessing, "validation.json")
    assert validation["blessed"] is True
    assert validation["failures"] == []
    assert [t["threshold_text"] for t in validation["thresholds"]] == ["value >= 0.6"]
    assert _read(evaluation, "metrics.json")["validation"] == validation


def test_tfma_reads_its_own_output(first_run: Any) -> None:
    import tensorflow_model_analysis as tfma

    evaluation = first_run[0]
    result = tfma.load_eval_result(evaluation.uri)
    overall = dict(result.slicing_metrics)[()]
    assert overall[""][""][ACCURACY]["doubleValue"] == pytest.approx(
        _rows(evaluation)["Overall"]["metrics"][ACCURACY]
    )
    assert tfma.load_validation_result(evaluation.uri).validation_ok
    assert (Path(evaluation.uri) / "eval_config.json").is_file()


def test_change_threshold_waived_without_baseline(first_run: Any) -> None:
    evaluation, blessing, messages = first_run
    validation = _read(blessing, "validation.json")
    assert validation["baseline_model"] is None
    assert validation["waived_change_thresholds"] == [
        {
            "where": "metrics_specs[0].metrics[0].threshold",
            "metric": "SparseCategoricalAccuracy",
            "threshold": {
                "change_threshold": {"absolute": -1e-10, "direction": "HIGHER_IS_BETTER"}
            },
            "threshold_text": "change vs baseline >= -1e-10 (higher is better)",
        }
    ]
    assert validation["reason"] == (
        "the threshold holds on every slice; change thresholds waived without a baseline model"
    )
    assert any(
        m.startswith("Evaluator: no baseline model, so 1 change threshold is waived")
        for m in messages
    ), messages
    assert "baseline_model" not in blessing.custom_properties
    # TFMA was given the config without it: no baseline model, no diff metrics.
    assert "baseline" not in _rows(evaluation)["Overall"]
    text = summarize_evaluation(evaluation).text
    assert "waived without a baseline model (1):" in text
    assert (
        "  SparseCategoricalAccuracy: change vs baseline >= -1e-10 (higher is better) "
        "[metrics_specs[0].metrics[0].threshold]" in text.splitlines()
    )


def test_rows_per_slice(first_run: Any) -> None:
    evaluation = first_run[0]
    document = _read(evaluation, "metrics.json")
    assert document["metric_names"] == ["example_count", ACCURACY]
    assert document["example_splits"] == ["eval"]
    assert document["model_types"] == {"candidate": "tf_generic"}
    rows = _rows(evaluation)
    species = {s: rows[f"species={s}"] for s in (0, 1, 2)}
    assert {s: r["slice_key"] for s, r in species.items()} == {s: {"species": s} for s in species}
    # 146 / 68 / 120 penguins of each species in the file, every third in eval.
    assert [r["metrics"]["example_count"] for r in species.values()] == [49, 23, 40]
    buckets = {k: r for k, r in rows.items() if k.startswith("flipper_bucket=")}
    assert len(buckets) >= 2
    assert sum(r["metrics"]["example_count"] for r in buckets.values()) == 112
    for row in rows.values():
        assert 0 <= row["metrics"][ACCURACY] <= 1
    # Overall first, then slices by name.
    assert document["slices"][0]["slice"] == "Overall"
    names = [r["slice"] for r in document["slices"][1:]]
    assert names == sorted(names)


def test_metrics_html_is_self_contained(first_run: Any) -> None:
    import re

    page = (Path(first_run[0].uri) / "metrics.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://|<script|<link|<img|<iframe|src=|url\(", page)
    assert "<td>species=1</td>" in page
    assert '<span class="ok">BLESSED</span>' in page


def test_impossible_threshold_is_not_blessed_and_says_why(
    penguin: PenguinData, tmp_path: Path
) -> None:
    config = PENGUIN_CONFIG.replace("value: 0.6", "value: 1.01")
    from headrace_evaluator import normalize_eval_config

    # As TFX passes them: the config and the splits as JSON strings.
    evaluation, blessing = run_evaluator(
        tmp_path,
        penguin,
        json.dumps(normalize_eval_config(config)),
        example_splits='["eval"]',
    )
    assert sorted(p.name for p in Path(blessing.uri).iterdir()) == [
        "NOT_BLESSED",
        "validation.json",
    ]
    assert blessing.custom_properties["blessed"] == 0
    validation = _read(blessing, "validation.json")
    slices = ["Overall", *sorted(r for r in _rows(evaluation) if r != "Overall")]
    assert [f["slice"] for f in validation["failures"]] == slices
    overall = validation["failures"][0]
    assert overall["metric"] == ACCURACY
    assert overall["is_diff"] is False
    assert overall["threshold"] == {"value_threshold": {"lower_bound": 1.01}}
    assert overall["value"] == _rows(evaluation)["Overall"]["metrics"][ACCURACY]

    blessing.id = 12
    shown = summarize_blessing(blessing)
    lines = shown.text.splitlines()
    assert lines[:4] == [
        f"ModelBlessing #12 at {blessing.uri}: NOT_BLESSED",
        f"model: {penguin.model} (#3)",
        "baseline: none",
        f"NOT_BLESSED: {len(slices)} validations failed; change thresholds waived without a "
        "baseline model",
    ]
    value = overall["value"]
    assert f"  {ACCURACY} on slice Overall is {value:.6g}, failing threshold value >= 1.01" in lines
    assert shown.data["blessed"] == 0
    assert len(shown.data["failures"]) == len(slices)
    table = summarize_evaluation(evaluation).text
    assert f"  {ACCURACY} on slice species=1 is " in table
    page = (Path(evaluation.uri) / "metrics.html").read_text()
    assert '<span class="fail">NOT_BLESSED</span>' in page
    assert '<td class="num bad">' in page


def test_change_threshold_applied_with_a_baseline(penguin: PenguinData, tmp_path: Path) -> None:
    # The model against itself: every difference is 0, which a non-negative change allows.
    evaluation, blessing = run_evaluator(tmp_path, penguin, PENGUIN_CONFIG, baseline="model")
    assert (Path(blessing.uri) / "BLESSED").is_file()
    assert blessing.custom_properties == {
        "blessed": 1,
        "current_model": str(penguin.model),
        "current_model_id": 3,
        "baseline_model": str(penguin.model),
        "baseline_model_id": 2,
    }
    validation = _read(blessing, "validation.json")
    assert validation["waived_change_thresholds"] == []
    assert [t["threshold_text"] for t in validation["thresholds"]] == [
        "value >= 0.6; change vs baseline >= -1e-10 (higher is better)"
    ]
    overall = _rows(evaluation)["Overall"]
    assert overall["baseline"][ACCURACY] == overall["metrics"][ACCURACY]
    assert overall["diff"][ACCURACY] == 0
    assert _read(evaluation, "metrics.json")["model_types"] == {
        "candidate": "tf_generic",
        "baseline": "tf_generic",
    }


def test_a_worse_model_fails_its_change_threshold(penguin: PenguinData, tmp_path: Path) -> None:
    evaluation, blessing = run_evaluator(
        tmp_path, penguin, ONLY_CHANGE, weak=True, baseline="model"
    )
    assert blessing.custom_properties["blessed"] == 0
    [failure] = _read(blessing, "validation.json")["failures"]
    assert failure["is_diff"] is True
    assert failure["slice"] == "Overall"
    overall = _rows(evaluation)["Overall"]
    assert failure["value"] == pytest.approx(overall["diff"][ACCURACY])
    assert overall["diff"][ACCURACY] < -0.3
    blessing.id = 12
    assert (
        f"  {ACCURACY} on slice Overall changed by {failure['value']:.6g} vs the baseline, "
        "failing threshold change vs baseline >= 0 (higher is better)"
    ) in summarize_blessing(blessing).text.splitlines()


def test_only_change_thresholds_without_baseline_rubber_stamp(
    penguin: PenguinData, tmp_path: Path
) -> None:
    # The same untrained model as above, on a first run: nothing to compare with, as in TFX.
    _, blessing = run_evaluator(tmp_path, penguin, ONLY_CHANGE, weak=True)
    assert blessing.custom_properties["blessed"] == 1
    validation = _read(blessing, "validation.json")
    assert validation["thresholds"] == []
    assert validation["reason"].startswith("rubber-stamped: every threshold is a change threshold")


def test_no_thresholds_never_blesses(penguin: PenguinData, tmp_path: Path) -> None:
    config = """
    model_specs { label_key: "species" }
    metrics_specs { metrics { class_name: "ExampleCount" } }
    """
    # Both splits, and no schema: the examples are decoded without one, as TFX does.
    evaluation, blessing = run_evaluator(
        tmp_path, penguin, config, schema=False, example_splits=["train", "eval"]
    )
    assert (Path(blessing.uri) / "NOT_BLESSED").is_file()
    assert blessing.custom_properties["blessed"] == 0
    assert _read(blessing, "validation.json")["reason"].startswith("no thresholds are configured")
    assert _rows(evaluation)["Overall"]["metrics"] == {"example_count": 334}


def test_a_missing_split_names_the_split(penguin: PenguinData, tmp_path: Path) -> None:
    with pytest.raises(
        EvaluatorError,
        match=rf"^Evaluator: examples {penguin.examples} have no split 'test' to evaluate on "
        r"\(splits: train, eval\); set example_splits$",
    ):
        run_evaluator(tmp_path, penguin, PENGUIN_CONFIG, example_splits=["test"])


def test_an_empty_split_names_its_directory(penguin: PenguinData, tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(penguin.examples, examples)
    for f in (examples / "Split-eval").iterdir():
        f.unlink()
    data = PenguinData(examples, penguin.schema, penguin.model, penguin.weak_model)
    with pytest.raises(
        EvaluatorError,
        match=rf"split 'eval' of examples {examples} has no files: {examples}/Split-eval: it "
        "holds nothing",
    ):
        run_evaluator(tmp_path / "out", data, PENGUIN_CONFIG)


def test_a_model_without_savedmodel_names_the_path(penguin: PenguinData, tmp_path: Path) -> None:
    empty = tmp_path / "model"
    (empty / "Format-Serving").mkdir(parents=True)
    data = PenguinData(penguin.examples, penguin.schema, empty, penguin.weak_model)
    with pytest.raises(
        EvaluatorError,
        match=rf"^Evaluator: model {empty} holds no SavedModel: no saved_model.pb in "
        rf"{empty}/Format-Serving \(it holds nothing\)$",
    ):
        run_evaluator(tmp_path / "out", data, PENGUIN_CONFIG)


def test_a_bad_schema_names_the_file(penguin: PenguinData, tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "schema.pbtxt").write_text('feature { name: "x" typo: 1 }\n')
    data = PenguinData(penguin.examples, schema, penguin.model, penguin.weak_model)
    with pytest.raises(EvaluatorError, match=rf"^Evaluator: schema {schema}/schema.pbtxt:1:"):
        run_evaluator(tmp_path / "out", data, PENGUIN_CONFIG)
