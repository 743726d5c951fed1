"""The pipeline-root placeholder: written against the root, kept in the IR, resolved at launch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headrace_core import PIPELINE_ROOT, Pipeline, component, ir, pipeline_root
from headrace_core.executor import ExecutorContext
from headrace_core.function import Parameter
from headrace_core.placeholders import has_placeholder, resolve, resolve_node


@component
def WritesUnder(base_directory: Parameter[str] = "") -> str:
    return base_directory


def test_spellings() -> None:
    assert os.path.join(PIPELINE_ROOT, "serving_model") == pipeline_root("serving_model")
    assert pipeline_root() == PIPELINE_ROOT
    assert pipeline_root("a", "b") == f"{PIPELINE_ROOT}/a/b"
    assert str(Path(PIPELINE_ROOT) / "x") == pipeline_root("x")
    with pytest.raises(ValueError, match="relative"):
        pipeline_root("/abs")


def test_resolve_walks_nested_values_and_leaves_others_alone() -> None:
    value = {
        "filesystem": {"base_directory": pipeline_root("serving_model"), "versioning": "AUTO"},
        "args": [f"--out={PIPELINE_ROOT}/tmp", 3, None, True],
        "pair": (PIPELINE_ROOT, 1.5),
    }
    assert has_placeholder(value)
    assert resolve(value, "/runs/B/") == {
        "filesystem": {"base_directory": "/runs/B/serving_model", "versioning": "AUTO"},
        "args": ["--out=/runs/B/tmp", 3, None, True],
        "pair": ("/runs/B", 1.5),
    }
    assert value["filesystem"]["base_directory"] == pipeline_root("serving_model")  # a copy
    assert resolve("/abs/path", "/runs/B") == "/abs/path"
    assert not has_placeholder({"a": ["/abs"]})
    assert resolve(pipeline_root("x"), "/") == "/x"


def test_resolve_without_a_root_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="pipeline root"):
        resolve(pipeline_root("x"), "")
    assert resolve("plain", "") == "plain"


def test_the_ir_keeps_the_placeholder_and_resolve_node_fills_it_in(tmp_path: Path) -> None:
    node = WritesUnder(base_directory=pipeline_root("serving"))
    document = ir.compile(Pipeline("ph", str(tmp_path / "A"), [node]))
    [compiled] = document["nodes"]
    assert compiled["parameters"] == {"base_directory": pipeline_root("serving")}
    ir.validate(document)
    resolved = resolve_node(compiled, str(tmp_path / "B"))
    assert resolved["parameters"] == {"base_directory": str(tmp_path / "B" / "serving")}
    assert compiled["parameters"] == {"base_directory": pipeline_root("serving")}
    importer = {"id": "i", "kind": "importer", "importer": {"source_uri": pipeline_root("in")}}
    assert resolve_node(importer, "/r")["importer"]["source_uri"] == "/r/in"


def test_a_function_component_receives_the_resolved_path(tmp_path: Path) -> None:
    from headrace_core.artifacts import String

    out = String(str(tmp_path / "out"))
    executor = WritesUnder.Executor(ExecutorContext(pipeline_root=str(tmp_path)))
    executor.Do({}, {"output": [out]}, {"base_directory": pipeline_root("serving")})
    assert out.value == str(tmp_path / "serving")


def test_the_root_itself_cannot_be_a_placeholder() -> None:
    from headrace_core import InvalidPipelineError

    with pytest.raises(InvalidPipelineError, match="against itself"):
        Pipeline("ph", pipeline_root("x"), [WritesUnder()])
