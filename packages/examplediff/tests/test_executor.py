"""The executor on TFX's own ExampleDiff data: the penguin examples against their skewed copy
(one row's culmen_length_mm set to -1), paired by culmen_length_mm.

The numbers were computed once with this executor and checked by hand against the data:
split 2:1 by row, train holds 223 rows of each file and eval 111; culmen_length_mm repeats
(163 distinct values in the file), so most identifiers are duplicated.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from examplediff_testing import (
    MULTI_PROCESS,
    TFX_CONFIG,
    PenguinPair,
    example_diff_messages,
    examples_artifact,
    run_executor,
)

from headrace_examplediff import ExampleDiffError

ROUNDED = {
    "paired_example_skew": {
        "identifier_features": ["culmen_length_mm"],
        "skew_sample_size": 2,
        "float_round_ndigits": 6,
    }
}
DUPLICATES = {
    "paired_example_skew": {**ROUNDED["paired_example_skew"], "allow_duplicate_identifiers": True}
}
FEATURES = ["body_mass_g", "culmen_depth_mm", "flipper_length_mm", "species"]


def _pairs(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in summary["split_pairs"]}


def _feature(pair: dict[str, Any], name: str) -> dict[str, Any]:
    [row] = [f for f in pair["features"] if f["feature"] == name]
    return row


@pytest.fixture(scope="module")
def tfx_run(penguin_pair: PenguinPair, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TFX's penguin example, as it is: include_split_pairs train_train and train_eval."""
    out = tmp_path_factory.mktemp("tfx") / "diff"
    run_executor(penguin_pair, out, TFX_CONFIG, [("train", "train"), ("train", "eval")])
    return out


@pytest.fixture(scope="module")
def rounded(penguin_pair: PenguinPair, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Floats kept to 6 decimal places, every split pair."""
    out = tmp_path_factory.mktemp("rounded") / "diff"
    run_executor(penguin_pair, out, ROUNDED)
    return out


def _summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text())


def test_tfx_layout(tfx_run: Path) -> None:
    assert sorted(os.listdir(tfx_run)) == [
        "SplitPair-train_eval",
        "SplitPair-train_train",
        "summary.json",
    ]
    for pair in ("train_eval", "train_train"):
        assert sorted(os.listdir(tfx_run / f"SplitPair-{pair}")) == [
            "match_stats-00000-of-00001",
            "sample_pairs-00000-of-00001",
            "skew_stats-00000-of-00001",
        ]


def test_tfx_config_rounds_floats_to_whole_numbers(tfx_run: Path) -> None:
    # float_round_ndigits unset is 0, which TFX hands TFDV: every culmen length in [0, 1]
    # (and the skewed -1) rounds to -1, 0 or 1, so every identifier is duplicated and, without
    # allow_duplicate_identifiers, no pair is compared. What TFX's own example gets.
    pairs = _pairs(_summary(tfx_run))
    assert list(pairs) == ["train_train", "train_eval"]
    train = pairs["train_train"]
    assert train["match_stats"] == {
        "test_examples_with_identifiers": 223,
        "base_examples_with_identifiers": 223,
        "test_examples_missing_identifiers": 0,
        "base_examples_missing_identifiers": 0,
        "identifiers": 3,
        "identifiers_in_both": 2,
        "identifiers_only_in_test": 0,
        "identifiers_only_in_base": 1,  # the skewed row's -1
        "duplicate_identifiers": 2,
        "matching_pairs": 25929,
    }
    assert train["features"] == []
    assert train["sample_pairs"] == 0
    assert pairs["train_eval"]["match_stats"]["identifiers"] == 2
    assert pairs["train_eval"]["match_stats"]["matching_pairs"] == 12646


def test_rounded_identifiers_pair_the_same_penguins(rounded: Path) -> None:
    pairs = _pairs(_summary(rounded))
    assert list(pairs) == ["train_train", "train_eval", "eval_train", "eval_eval"]
    train = pairs["train_train"]
    stats = train["match_stats"]
    assert (stats["identifiers"], stats["identifiers_in_both"]) == (131, 130)
    assert (stats["identifiers_only_in_test"], stats["identifiers_only_in_base"]) == (0, 1)
    assert (stats["duplicate_identifiers"], stats["matching_pairs"]) == (58, 500)
    # The 72 unique identifiers pair a row with itself: nothing differs.
    assert [f["feature"] for f in train["features"]] == FEATURES
    assert all(f["matched"] == 72 and f["differing"] == 0 for f in train["features"])
    assert train["differing_features"] == [] and train["sample_pairs"] == 0
    assert pairs["eval_eval"]["match_stats"]["matching_pairs"] == 169
    assert all(f["matched"] == 59 for f in pairs["eval_eval"]["features"])


def test_rounded_cross_split_pairs_differ(rounded: Path) -> None:
    # train against eval pairs different penguins that share a culmen length.
    pairs = _pairs(_summary(rounded))
    cross = pairs["train_eval"]
    assert cross["match_stats"]["identifiers_in_both"] == 51
    assert cross["match_stats"]["identifiers_only_in_test"] == 79
    assert cross["match_stats"]["identifiers_only_in_base"] == 33
    assert [(f["feature"], f["mismatched"], f["matched"]) for f in cross["features"]] == [
        ("body_mass_g", 21, 0),
        ("culmen_depth_mm", 21, 0),
        ("flipper_length_mm", 20, 1),
        ("species", 8, 13),
    ]
    assert cross["differing_features"] == FEATURES
    assert cross["sample_pairs"] == 2  # skew_sample_size
    # The other way round: the same pairs, test and base swapped.
    back = pairs["eval_train"]
    assert back["match_stats"]["identifiers_only_in_test"] == 33
    assert back["features"] == cross["features"]


def test_tfdv_records_keep_tfxs_orientation(rounded: Path) -> None:
    # TFX hands TFDV examples_test as its baseline: the raw MatchStats call the skewed -1,
    # found only in examples_base, an identifier "missing in base".
    from tensorflow_data_validation.skew import feature_skew_detector as fsd

    prefix = str(rounded / "SplitPair-train_train" / "match_stats")
    [stats] = list(fsd.match_stats_iterator(prefix))
    assert stats.ids_missing_in_base_count == 1
    assert stats.ids_missing_in_test_count == 0
    skews = {
        s.feature_name: s
        for s in fsd.skew_results_iterator(str(rounded / "SplitPair-train_eval" / "skew_stats"))
    }
    assert sorted(skews) == FEATURES
    assert skews["species"].mismatch_count == 8
    assert (
        len(list(fsd.skew_pair_iterator(str(rounded / "SplitPair-train_eval" / "sample_pairs"))))
        == 2
    )


def test_duplicates_allowed_compare_every_pair(penguin_pair: PenguinPair, tmp_path: Path) -> None:
    summary = run_executor(penguin_pair, tmp_path / "diff", DUPLICATES, [("train", "train")])
    [pair] = summary["split_pairs"]
    assert pair["match_stats"]["matching_pairs"] == 500
    assert [(f["feature"], f["matched"], f["mismatched"]) for f in pair["features"]] == [
        ("body_mass_g", 224, 276),
        ("culmen_depth_mm", 224, 276),
        ("flipper_length_mm", 240, 260),
        ("species", 414, 86),
    ]
    assert summary["config"] == DUPLICATES


def test_multi_process_beam_gives_the_same_result(
    penguin_pair: PenguinPair, tmp_path: Path
) -> None:
    one = run_executor(penguin_pair, tmp_path / "one", DUPLICATES)
    multi = run_executor(penguin_pair, tmp_path / "multi", DUPLICATES, beam_args=MULTI_PROCESS)
    assert multi == one
    assert len(one["split_pairs"]) == 4


def test_tfx_style_exec_properties(penguin_pair: PenguinPair, tmp_path: Path) -> None:
    # What TFX's own executor test passes: the message itself and the pairs as JSON.
    config_class, skew_class = example_diff_messages()
    message = config_class(
        paired_example_skew=skew_class(
            identifier_features=["culmen_length_mm"], skew_sample_size=2, float_round_ndigits=6
        )
    )
    summary = run_executor(penguin_pair, tmp_path / "diff", message, '[["eval", "eval"]]')
    assert [p["name"] for p in summary["split_pairs"]] == ["eval_eval"]
    assert summary["config"] == ROUNDED
    # An empty list, as in TFX, is every pair.
    summary = run_executor(penguin_pair, tmp_path / "all", ROUNDED, "[]")
    assert len(summary["split_pairs"]) == 4


def test_a_pair_naming_a_missing_split(penguin_pair: PenguinPair, tmp_path: Path) -> None:
    with pytest.raises(
        ExampleDiffError,
        match=r"ExampleDiff: include_split_pairs: pair \('train', 'serving'\): examples_base "
        r".*base has no split 'serving' \(splits: train, eval\)",
    ):
        run_executor(penguin_pair, tmp_path / "d", TFX_CONFIG, [("train", "serving")])
    assert not (tmp_path / "d" / "summary.json").exists()


def test_identifier_features_not_in_the_data(penguin_pair: PenguinPair, tmp_path: Path) -> None:
    config = {"paired_example_skew": {"identifier_features": ["culmen_length"]}}
    with pytest.raises(
        ExampleDiffError,
        match=r"identifier_features \['culmen_length'\]: none of the 223 examples of "
        r"examples_test split 'train' has them all \(its features: body_mass_g, "
        r"culmen_depth_mm, culmen_length_mm, flipper_length_mm, species\)",
    ):
        run_executor(penguin_pair, tmp_path / "d", config, [("train", "train")])
    assert not (tmp_path / "d" / "summary.json").exists()


def test_inputs_it_cannot_read(penguin_pair: PenguinPair, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"ExampleDiff: examples_test artifact .* no split_names"):
        run_executor(
            penguin_pair, tmp_path / "a", test=examples_artifact(penguin_pair.test, splits="")
        )
    parquet = examples_artifact(penguin_pair.base, payload_format="FORMAT_PARQUET")
    with pytest.raises(ExampleDiffError, match=r"examples_base .* payload_format 'FORMAT_PARQUET'"):
        run_executor(penguin_pair, tmp_path / "b", base=parquet)
    empty = tmp_path / "empty"
    (empty / "Split-train").mkdir(parents=True)
    with pytest.raises(ExampleDiffError, match=r"split 'train' of examples_test .* has no files"):
        run_executor(penguin_pair, tmp_path / "c", test=examples_artifact(empty, '["train"]'))


@pytest.fixture(scope="module")
def colours(tmp_path_factory: pytest.TempPathFactory) -> PenguinPair:
    """Six rows with a string feature, and a copy where two colours changed."""
    from headrace_tfdv_io.testing import write_examples

    root = tmp_path_factory.mktemp("colours")
    rows = ["red", "red", "blue", "green", "blue", "red"]
    changed = ["red", "blue", "blue", "green", "red", "red"]
    for name, values in (("test", rows), ("base", changed)):
        text = "id,colour,size\n" + "".join(f"{i},{c},{i * 2}\n" for i, c in enumerate(values))
        (root / f"{name}.csv").write_text(text)
        write_examples(root / f"{name}.csv", root / name, splits=("all",))
    return PenguinPair(root / "test", root / "base", {})


def test_confusion_counts(colours: PenguinPair, tmp_path: Path) -> None:
    config = {
        "paired_example_skew": {
            "identifier_features": ["id"],
            "confusion_config": [{"feature_name": "colour"}],
        }
    }
    test = examples_artifact(colours.test, '["all"]')
    base = examples_artifact(colours.base, '["all"]')
    summary = run_executor(colours, tmp_path / "d", config, test=test, base=base)
    [pair] = summary["split_pairs"]
    assert sorted(os.listdir(tmp_path / "d" / "SplitPair-all_all"))[0].startswith("confusion-")
    assert pair["confusion"] == [
        {"feature": "colour", "test_value": "red", "base_value": "red", "count": 2},
        {"feature": "colour", "test_value": "blue", "base_value": "blue", "count": 1},
        {"feature": "colour", "test_value": "blue", "base_value": "red", "count": 1},
        {"feature": "colour", "test_value": "green", "base_value": "green", "count": 1},
        # id 1: red in examples_test, blue in examples_base (values by input, not TFDV's).
        {"feature": "colour", "test_value": "red", "base_value": "blue", "count": 1},
    ]
    assert _feature(pair, "colour")["mismatched"] == 2
    assert pair["confusion_truncated"] is False


def test_confusion_of_a_number_is_named(colours: PenguinPair, tmp_path: Path) -> None:
    config = {
        "paired_example_skew": {
            "identifier_features": ["id"],
            "confusion_config": [{"feature_name": "size"}],
        }
    }
    test = examples_artifact(colours.test, '["all"]')
    base = examples_artifact(colours.base, '["all"]')
    with pytest.raises(ExampleDiffError, match=r"confusion_config \(size\): confusion counts take"):
        run_executor(colours, tmp_path / "d", config, test=test, base=base)
