"""The ``headrace show`` viewers and the readable reports, on their own: registration, no
TensorFlow, TFX's artifacts without headrace's files, escaping, thresholds in words."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headrace_core import ModelBlessing, ModelEvaluation
from headrace_core.plugins import get_plugin_manager
from headrace_evaluator.report import (
    describe_threshold,
    metric_display_name,
    render_html,
    slice_display_name,
    write_json,
)
from headrace_evaluator.viewer import summarize_blessing, summarize_evaluation

FAILURE = {
    "metric": "accuracy<top>",
    "metric_key": {"name": "accuracy<top>"},
    "slice": "city=<Chicago & co>",
    "slice_key": {"city": "<Chicago & co>"},
    "is_diff": False,
    "value": 0.25,
    "threshold": {"value_threshold": {"lower_bound": 0.6}},
    "threshold_text": "value >= 0.6",
}
VALIDATION = {
    "blessed": False,
    "reason": "1 validation failed",
    "validation_ok": False,
    "failures": [FAILURE],
    "missing_slices": ['{"feature_keys": ["nowhere"]}'],
    "thresholds": [],
    "waived_change_thresholds": [],
    "model": "/m/1",
    "model_id": 1,
    "baseline_model": None,
    "baseline_model_id": None,
}
DOCUMENT = {
    "examples": "/e",
    "example_splits": ["eval"],
    "model": "/m/1",
    "model_id": 1,
    "baseline_model": None,
    "baseline_model_id": None,
    "metric_names": ["accuracy<top>", "example_count"],
    "slices": [
        {
            "slice": "Overall",
            "slice_key": {},
            "metrics": {"accuracy<top>": 0.5, "example_count": 4},
        },
        {
            "slice": "city=<Chicago & co>",
            "slice_key": {"city": "<Chicago & co>"},
            "metrics": {"accuracy<top>": 0.25, "example_count": 2},
        },
    ],
    "validation": VALIDATION,
}


@pytest.fixture
def artifacts(tmp_path: Path) -> tuple[ModelEvaluation, ModelBlessing]:
    evaluation = ModelEvaluation(str(tmp_path / "evaluation"), id=5)
    blessing = ModelBlessing(str(tmp_path / "blessing"), id=6)
    write_json(str(tmp_path / "evaluation" / "metrics.json"), DOCUMENT)
    (tmp_path / "evaluation" / "metrics.html").write_text(render_html(DOCUMENT, "t"))
    write_json(str(tmp_path / "blessing" / "validation.json"), VALIDATION)
    (tmp_path / "blessing" / "NOT_BLESSED").write_text("")
    blessing.set_custom_property("blessed", 0)
    return evaluation, blessing


def test_viewers_are_registered() -> None:
    manager = get_plugin_manager()
    for type_name, ref in (
        ("ModelEvaluation", "headrace_evaluator.viewer:summarize_evaluation"),
        ("ModelBlessing", "headrace_evaluator.viewer:summarize_blessing"),
    ):
        entry = manager.viewers.entry(type_name)
        assert entry.value.viewer == ref
        assert entry.value.run_summary  # `headrace run` ends with their headlines
        assert entry.provenance.distribution == "headrace-evaluator"


def test_blessing_text(artifacts: tuple[ModelEvaluation, ModelBlessing]) -> None:
    _, blessing = artifacts
    summary = summarize_blessing(blessing)
    assert summary.text.splitlines() == [
        f"ModelBlessing #6 at {blessing.uri}: NOT_BLESSED",
        "model: /m/1 (#1)",
        "baseline: none",
        "NOT_BLESSED: 1 validation failed",
        "failed validations (1):",
        "  accuracy<top> on slice city=<Chicago & co> is 0.25, failing threshold value >= 0.6",
        '  no slice matches {"feature_keys": ["nowhere"]} (a threshold for it could not be '
        "checked)",
    ]
    assert summary.html_path is None
    assert summary.data["blessed"] == 0
    assert summary.headline == (
        "NOT_BLESSED: accuracy<top> on slice city=<Chicago & co> is 0.25, failing threshold "
        "value >= 0.6"
    )
    json.dumps(summary.data)


def test_evaluation_text_and_html(artifacts: tuple[ModelEvaluation, ModelBlessing]) -> None:
    evaluation, _ = artifacts
    summary = summarize_evaluation(evaluation)
    assert summary.text.splitlines()[:8] == [
        f"ModelEvaluation #5 at {evaluation.uri}",
        "model: /m/1 (#1)",
        "baseline: none",
        "examples: splits eval of /e",
        "",
        "slice                accuracy<top>  example_count",
        "Overall                        0.5              4",
        "city=<Chicago & co>           0.25              2",
    ]
    assert summary.headline == "accuracy<top> 0.5, example_count 4 overall; 2 slices"
    assert summary.html_path == str(Path(evaluation.uri) / "metrics.html")
    assert summary.data["slices"] == DOCUMENT["slices"]
    page = Path(evaluation.uri, "metrics.html").read_text()
    assert not re.search(r"https?://|<script|<link|<img|<iframe|src=|url\(", page)
    assert "<td>city=&lt;Chicago &amp; co&gt;</td>" in page
    assert "<Chicago" not in page
    # The failing cell is marked in the table as well as listed.
    assert '<td class="num bad">0.25</td>' in page


def test_tfx_artifacts_without_headrace_files(tmp_path: Path) -> None:
    # TFX's Evaluator leaves TFMA's files and, when it validated, the marker file only.
    (tmp_path / "evaluation").mkdir()
    (tmp_path / "evaluation" / "metrics-00000-of-00001.tfrecord").write_bytes(b"")
    summary = summarize_evaluation(ModelEvaluation(str(tmp_path / "evaluation"), id=1))
    assert summary.text.splitlines()[1].startswith("no metrics.json (not written by")
    assert summary.data == {"files": ["metrics-00000-of-00001.tfrecord"]}
    (tmp_path / "blessing").mkdir()
    (tmp_path / "blessing" / "BLESSED").write_text("")
    blessing = ModelBlessing(str(tmp_path / "blessing"), id=2)
    blessing.set_custom_property("current_model", "/m/7")
    summary = summarize_blessing(blessing)
    assert summary.text.splitlines() == [
        f"ModelBlessing #2 at {blessing.uri}: BLESSED",
        "current_model: /m/7",
    ]
    assert summary.data == {"blessed": 1}
    empty = ModelBlessing(str(tmp_path / "nothing"), id=3)
    assert summarize_blessing(empty).text.endswith(": no BLESSED or NOT_BLESSED file")


def test_viewers_import_no_tensorflow(artifacts: tuple[ModelEvaluation, ModelBlessing]) -> None:
    evaluation, blessing = artifacts
    script = f"""
import json, sys
from headrace_core import ModelBlessing, ModelEvaluation
from headrace_evaluator.viewer import summarize_blessing, summarize_evaluation
e = ModelEvaluation.from_json_dict(json.loads({json.dumps(json.dumps(evaluation.to_json_dict()))}))
b = ModelBlessing.from_json_dict(json.loads({json.dumps(json.dumps(blessing.to_json_dict()))}))
assert "accuracy<top>" in summarize_evaluation(e).text
assert "NOT_BLESSED" in summarize_blessing(b).text
heavy = ("tensorflow", "tensorflow_model_analysis", "apache_beam", "tfx_bsl", "pandas")
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}})))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize(
    ("threshold", "text"),
    [
        ({"value_threshold": {"lower_bound": 0.6}}, "value >= 0.6"),
        ({"value_threshold": {"upper_bound": 2}}, "value <= 2"),
        ({"value_threshold": {"lower_bound": 0, "upper_bound": 1}}, "0 <= value <= 1"),
        (
            {"change_threshold": {"direction": "LOWER_IS_BETTER", "relative": 0.1}},
            "relative change vs baseline <= 0.1 (lower is better)",
        ),
        (
            {
                "value_threshold": {"lower_bound": 0.6},
                "change_threshold": {
                    "direction": "HIGHER_IS_BETTER",
                    "absolute": -1e-10,
                    "relative": 0,
                },
            },
            "value >= 0.6; change vs baseline >= -1e-10 and relative change vs baseline >= 0 "
            "(higher is better)",
        ),
    ],
)
def test_thresholds_in_words(threshold: dict[str, Any], text: str) -> None:
    assert describe_threshold(threshold) == text


def test_names_of_metrics_and_slices() -> None:
    assert metric_display_name({"name": "auc"}) == "auc"
    assert (
        metric_display_name(
            {
                "name": "precision",
                "output_name": "head",
                "sub_key": {"class_id": 2},
                "aggregation_type": {"macro_average": True},
                "example_weighted": True,
            }
        )
        == "head/precision[class_id=2][macro][weighted]"
    )
    assert slice_display_name({}) == "Overall"
    assert slice_display_name({"a": 1, "b": "x"}) == "a=1, b=x"
    assert slice_display_name({"baseline": {}, "comparison": {"a": 1}}) == "Overall vs a=1"
