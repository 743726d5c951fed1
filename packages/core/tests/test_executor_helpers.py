"""``single_input`` and ``describe_directory``: the checks every component's executor shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from headrace_core import Examples, HeadraceError
from headrace_core.executor import ExecutorInputError, describe_directory, single_input


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
