"""The ExampleDiff in TFX's penguin setting, through the local runner: two CsvExampleGens (the
penguin CSV and its skewed copy) feed it; the result is published, shown and cached."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from headrace_core import Pipeline
from headrace_core.orchestration.local import LocalDagRunner
from headrace_core.runtime import Status
from headrace_core.testing import show_artifact
from headrace_examplediff import ExampleDiff
from headrace_examplegen import CsvExampleGen

CONFIG = {
    "paired_example_skew": {
        "identifier_features": ["culmen_length_mm"],
        "skew_sample_size": 2,
        "float_round_ndigits": 6,
    }
}


def _pipeline(root: Path, data: Path) -> Pipeline:
    example_gen = CsvExampleGen(input_base=str(data / "penguin"))
    skewed_gen = CsvExampleGen(input_base=str(data / "skewed")).with_id("CsvExampleGen_Skewed")
    example_diff = ExampleDiff(
        examples_test=example_gen.outputs["examples"],
        examples_base=skewed_gen.outputs["examples"],
        config=CONFIG,
        include_split_pairs=[("train", "train"), ("train", "eval")],
    )
    return Pipeline("example_diff", str(root), [example_gen, skewed_gen, example_diff])


def test_two_example_gens_and_a_diff(test_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name, file in (
        ("penguin", "penguins_processed.csv"),
        ("skewed", "penguins_processed_skewed.csv"),
    ):
        (data / name).mkdir(parents=True)
        shutil.copy(test_data / "penguin" / file, data / name / file)
    root = tmp_path / "root"
    result = LocalDagRunner(max_parallel=1).run(_pipeline(root, data))
    assert result.succeeded, result.to_json()
    [diff] = result.results["ExampleDiff"].outputs["example_diff_result"]
    assert diff.type_name == "ExamplesDiff"
    uri = Path(diff.uri)
    assert sorted(p.name for p in uri.iterdir()) == [
        "SplitPair-train_eval",
        "SplitPair-train_train",
        "summary.json",
    ]
    summary = json.loads((uri / "summary.json").read_text())
    pairs = {p["name"]: p for p in summary["split_pairs"]}
    # CsvExampleGen splits by a hash of the record: the penguin file 234/100, and the skewed
    # copy's changed row (culmen_length_mm -1) hashes into eval, so its train has 233 rows
    # (all the test train's identifiers still in it: that value repeats) and its eval 101.
    train = pairs["train_train"]
    assert (
        train["match_stats"]["test_examples_with_identifiers"],
        train["match_stats"]["base_examples_with_identifiers"],
        train["match_stats"]["identifiers"],
        train["match_stats"]["identifiers_in_both"],
        train["match_stats"]["matching_pairs"],
    ) == (234, 233, 134, 134, 526)
    assert train["differing_features"] == []
    cross = pairs["train_eval"]["match_stats"]
    assert (cross["identifiers_only_in_test"], cross["identifiers_only_in_base"]) == (84, 30)
    assert pairs["train_eval"]["sample_pairs"] == 2

    shown = show_artifact(root, diff.id)
    assert (
        "split pair train_eval (examples_test 'train' vs examples_base 'eval'):" in shown["summary"]
    )
    assert shown["data"]["split_pairs"][0]["name"] == "train_train"

    again = LocalDagRunner(max_parallel=1).run(_pipeline(root, data))
    assert again.results["ExampleDiff"].status == Status.CACHED
