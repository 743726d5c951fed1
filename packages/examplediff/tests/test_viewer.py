"""``headrace show`` for ExamplesDiff: the text, the data and the headline from summary.json,
an artifact TFX wrote (no summary), the registration, and no TensorFlow imported."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from examplediff_testing import PenguinPair, run_executor

from headrace_core import ExamplesDiff
from headrace_core.plugins import get_plugin_manager
from headrace_examplediff.viewer import summarize

CONFIG = {
    "paired_example_skew": {
        "identifier_features": ["culmen_length_mm"],
        "skew_sample_size": 2,
        "float_round_ndigits": 6,
    }
}


@pytest.fixture(scope="module")
def diff(penguin_pair: PenguinPair, tmp_path_factory: pytest.TempPathFactory) -> ExamplesDiff:
    out = tmp_path_factory.mktemp("viewer") / "diff"
    run_executor(penguin_pair, out, CONFIG, [("train", "train"), ("train", "eval")])
    return ExamplesDiff(str(out), id=9)


def test_text_per_split_pair(diff: ExamplesDiff) -> None:
    summary = summarize(diff)
    assert summary.text.splitlines() == [
        f"ExamplesDiff #9 at {diff.uri}",
        "  identifier features: culmen_length_mm",
        "  floats rounded to 6 decimal places before pairing and comparing",
        "  examples with a duplicate identifier are not compared",
        "split pair train_train (examples_test 'train' vs examples_base 'train'):",
        "  examples with identifiers: test 223, base 223; without: test 0, base 0",
        "  identifiers: 131 (130 in both, 0 only in test, 1 only in base; 58 duplicated)",
        "  pairs sharing an identifier: 500",
        "  no feature differs (4 compared)",
        "split pair train_eval (examples_test 'train' vs examples_base 'eval'):",
        "  examples with identifiers: test 223, base 111; without: test 0, base 0",
        "  identifiers: 163 (51 in both, 79 only in test, 33 only in base; 74 duplicated)",
        "  pairs sharing an identifier: 121",
        "  features that differ (4 of 4):",
        "    body_mass_g        21 of 21 pairs (mismatched 21, only in test 0, only in base 0)",
        "    culmen_depth_mm    21 of 21 pairs (mismatched 21, only in test 0, only in base 0)",
        "    flipper_length_mm  20 of 21 pairs (mismatched 20, only in test 0, only in base 0)",
        "    species            8 of 21 pairs (mismatched 8, only in test 0, only in base 0)",
        "  2 sampled skewed pairs in SplitPair-train_eval/sample_pairs-*",
    ]
    assert summary.headline == (
        "train_train: 500 pairs share an identifier, no feature differs; "
        "train_eval: 121 pairs share an identifier, 4 features differ"
    )
    assert summary.html_path is None
    assert [p["name"] for p in summary.data["split_pairs"]] == ["train_train", "train_eval"]
    json.dumps(summary.data)


def test_tfx_default_rounding_is_pointed_out(penguin_pair: PenguinPair, tmp_path: Path) -> None:
    config = {"paired_example_skew": {"identifier_features": ["culmen_length_mm"]}}
    run_executor(penguin_pair, tmp_path / "d", config, [("eval", "eval")])
    text = summarize(ExamplesDiff(str(tmp_path / "d"), id=1)).text.splitlines()
    assert text[2] == (
        "  floats rounded to 0 decimal places before pairing and comparing "
        "(float_round_ndigits unset: 0, as in TFX)"
    )
    assert "  no pair was compared" in text


def test_an_artifact_tfx_wrote(diff: ExamplesDiff, tmp_path: Path) -> None:
    # TFX's ExampleDiff leaves the TFDV records and no summary.json.
    shutil.copytree(diff.uri, tmp_path / "tfx", ignore=shutil.ignore_patterns("summary.json"))
    summary = summarize(ExamplesDiff(str(tmp_path / "tfx"), id=3))
    assert summary.text.splitlines() == [
        f"ExamplesDiff #3 at {tmp_path / 'tfx'}",
        "  no summary.json (written by TFX?): the TFDV records only",
        "split pair train_eval: match_stats-00000-of-00001, sample_pairs-00000-of-00001, "
        "skew_stats-00000-of-00001",
        "split pair train_train: match_stats-00000-of-00001, sample_pairs-00000-of-00001, "
        "skew_stats-00000-of-00001",
    ]
    empty = summarize(ExamplesDiff(str(tmp_path / "missing"), id=4))
    assert empty.text.splitlines()[-1] == "  no split pairs"


def test_viewer_is_registered_for_examples_diff() -> None:
    entry = get_plugin_manager().viewers.entry("ExamplesDiff")
    assert entry.value.viewer == "headrace_examplediff.viewer:summarize"
    assert entry.value.run_summary
    assert entry.provenance.distribution == "headrace-examplediff"


def test_viewer_imports_no_tensorflow(diff: ExamplesDiff) -> None:
    script = f"""
import json, sys
from headrace_core import ExamplesDiff
from headrace_examplediff.viewer import summarize
summary = summarize(ExamplesDiff({diff.uri!r}, id=1))
assert "body_mass_g" in summary.text
heavy = ("tensorflow", "tensorflow_data_validation", "apache_beam", "tfx_bsl")
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}})))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
