"""``single_input`` and ``describe_directory``: the checks every component's executor shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from headrace_core import Examples, ExampleStatistics, HeadraceError
from headrace_core.executor import (
    ExecutorInputError,
    describe_directory,
    included_splits,
    single_input,
    split_files_pattern,
)


def _examples(uri: str) -> Examples:
    artifact = Examples()
    artifact.uri = uri
    return artifact


def test_single_input_returns_the_one_artifact() -> None:
    one = _examples("/a")
    assert single_input({"examples": [one]}, "examples", component="StatisticsGen") is one


def test_single_input_names_component_key_and_uris() -> None:
    two = [_examples("/a"), _examples("/b")]
    with pytest.raises(ExecutorInputError) as e:
        single_input({"examples": two}, "examples", component="StatisticsGen")
    assert str(e.value) == (
        "StatisticsGen: input 'examples' takes exactly one artifact, got 2 (/a, /b)"
    )
    # Callers that caught the ValueError of the hand-written checks still catch it.
    assert isinstance(e.value, ValueError) and isinstance(e.value, HeadraceError)


def test_single_input_missing_and_optional() -> None:
    with pytest.raises(
        ExecutorInputError, match=r"output 'schema' takes exactly one artifact, got 0$"
    ):
        single_input({}, "schema", component="SchemaGen", what="output")
    assert single_input({"baseline": []}, "baseline", component="Evaluator", optional=True) is None


def test_single_input_raises_the_package_error_class() -> None:
    class PusherError(RuntimeError):
        pass

    with pytest.raises(PusherError, match=r"^Pusher: input 'model'"):
        single_input({"model": []}, "model", component="Pusher", error=PusherError)


def test_describe_directory(tmp_path: Path) -> None:
    assert describe_directory(str(tmp_path / "absent")) == "it does not exist"
    assert describe_directory(str(tmp_path)) == "it holds nothing"
    for name in ("b", "a", "c"):
        (tmp_path / name).touch()
    assert describe_directory(str(tmp_path)) == "it holds a, b, c"
    assert describe_directory(str(tmp_path), limit=2) == "it holds a, b, ..."


def _statistics(split_names: str | None) -> ExampleStatistics:
    properties = {"split_names": split_names} if split_names is not None else {}
    return ExampleStatistics("/s", properties=properties)


@pytest.mark.parametrize("exclude", [None, "", [], ["eval"], '["eval"]', ["test"]])
def test_included_splits(exclude: object) -> None:
    stats = _statistics('["train", "eval"]')
    expected = ["train"] if exclude in (["eval"], '["eval"]') else ["train", "eval"]
    kwargs = {"component": "SchemaGen", "role": "statistics", "purpose": "infer a schema from"}
    assert included_splits(stats, exclude, **kwargs) == expected


def test_included_splits_errors() -> None:
    kwargs = {"component": "ExampleValidator", "role": "statistics", "purpose": "validate"}
    with pytest.raises(ExecutorInputError, match=r"every split of the statistics \(train, eval\)"):
        included_splits(_statistics('["train", "eval"]'), ["train", "eval"], **kwargs)
    with pytest.raises(ExecutorInputError, match="has no split_names property"):
        included_splits(_statistics(None), None, **kwargs)
    with pytest.raises(ExecutorInputError, match="must be a list of split names"):
        included_splits(_statistics('["train"]'), {"eval": 1}, **kwargs)


def test_split_files_pattern(tmp_path: Path) -> None:
    examples = Examples(str(tmp_path), properties={"split_names": '["train", "eval"]'})
    (tmp_path / "Split-train").mkdir()
    (tmp_path / "Split-train" / "data.gz").write_bytes(b"")
    (tmp_path / "Split-eval").mkdir()
    (tmp_path / "Split-eval" / ".hidden").write_bytes(b"")
    assert split_files_pattern(examples, "train", component="C") == str(
        tmp_path / "Split-train" / "*"
    )
    with pytest.raises(ExecutorInputError) as e:
        split_files_pattern(examples, "eval", component="C")
    assert str(e.value) == (
        f"C: split 'eval' of examples {tmp_path} has no files: {tmp_path}/Split-eval: "
        "it holds .hidden"
    )

    class MineError(HeadraceError, ValueError):
        pass

    with pytest.raises(MineError, match=r"C: split 'test' of statistics .* it does not exist"):
        split_files_pattern(examples, "test", component="C", role="statistics", error=MineError)


def test_saved_model_dir(tmp_path: Path) -> None:
    from headrace_core import Model
    from headrace_core.executor import saved_model_dir

    model = Model(str(tmp_path))
    with pytest.raises(ExecutorInputError) as e:
        saved_model_dir(model, component="C", role="baseline_model")
    assert str(e.value) == (
        f"C: baseline_model {tmp_path} holds no SavedModel: no saved_model.pb in "
        f"{tmp_path}/Format-Serving (it does not exist)"
    )
    (tmp_path / "Format-Serving").mkdir()
    (tmp_path / "Format-Serving" / "saved_model.pb").write_bytes(b"")
    assert saved_model_dir(model, component="C") == str(tmp_path / "Format-Serving")


def test_json_property() -> None:
    from headrace_core.executor import json_property

    assert json_property({"p": {"a": 1}}, "p", component="C") == {"a": 1}
    assert json_property({"p": '{"a": 1}'}, "p", component="C") == {"a": 1}  # TFX's form
    assert json_property({"p": " "}, "p", component="C") is None
    assert json_property({}, "p", component="C") is None
    with pytest.raises(ExecutorInputError, match=r"^C: p is not valid JSON \(Expecting"):
        json_property({"p": "{oops"}, "p", component="C")
