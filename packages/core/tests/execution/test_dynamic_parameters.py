"""A parameter read from an upstream artifact when the node launches (TFX's
``producer.outputs[...].future()[0].value`` given as a parameter, as its penguin example's
RangeConfigGenerator feeds ExampleGen's ``range_config``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hrexec_components import CountRows, Emit, MakeExamples

from headrace_core import InvalidComponentArgumentError, Pipeline
from headrace_core import ir as ir_mod
from headrace_core.artifacts import Integer
from headrace_core.channels import Channel
from headrace_core.orchestration.local import LocalDagRunner


def _pipeline(root: Path, rows: int) -> Pipeline:
    emit = Emit(value=rows)
    make = MakeExamples(rows=emit.outputs["output"].future()[0].value)
    count = CountRows(examples=make.outputs["examples"])
    return Pipeline("dynamic", str(root), [make, count, emit])


def _rows(result: object) -> int:
    [made] = result.results["CountRows"].outputs["output"]  # type: ignore[attr-defined]
    return int(made.get_custom_property("value"))


def test_the_producer_runs_first_and_its_value_is_the_parameter(tmp_path: Path) -> None:
    runner = LocalDagRunner(max_parallel=2)
    first = runner.run(_pipeline(tmp_path, 4))
    assert first.succeeded, first.to_json()
    assert _rows(first) == 4
    # The resolved value is what the key covers: same value cached, a new one re-runs.
    again = runner.run(_pipeline(tmp_path, 4))
    assert again.results["MakeExamples"].status == "cached"
    changed = runner.run(_pipeline(tmp_path, 5))
    assert changed.results["MakeExamples"].status == "complete"
    assert _rows(changed) == 5
    # The plan predicts what a run does.
    plan = {p.node_id: p.status for p in runner.plan(_pipeline(tmp_path, 5))}
    assert plan["MakeExamples"] == "cached"
    plan = {p.node_id: p.status for p in runner.plan(_pipeline(tmp_path, 6))}
    assert plan["MakeExamples"] == "run"  # Emit runs first: its value is not known yet


def test_the_ir_records_the_reference_and_round_trips(tmp_path: Path) -> None:
    document = ir_mod.compile(_pipeline(tmp_path, 4))
    ir_mod.validate(document)
    [node] = [n for n in document["nodes"] if n["id"] == "MakeExamples"]
    assert node["dynamic_parameters"] == {
        "rows": {"producer": "Emit", "output": "output", "index": 0, "field": "value",
                 "name": "value"}
    }  # fmt: skip
    assert "rows" not in node["parameters"] and "Emit" in node["upstream"]
    assert ir_mod.compile(ir_mod.load(json.loads(ir_mod.dumps(document)))) == document


def test_a_channel_without_a_producer_is_refused() -> None:
    with pytest.raises(InvalidComponentArgumentError, match=r"parameter 'rows' reads .*producer"):
        MakeExamples(rows=Channel(type=Integer).future()[0].value)


def test_a_value_that_is_not_there_fails_the_node_naming_the_parameter(tmp_path: Path) -> None:
    emit = Emit(value=3)
    make = MakeExamples(rows=emit.outputs["output"].future()[1].value)  # one artifact only
    result = LocalDagRunner().run(Pipeline("missing", str(tmp_path), [emit, make]))
    assert result.failed_nodes == ["MakeExamples"]
    error = result.results["MakeExamples"].error or ""
    assert "parameter 'rows' reads Emit.outputs['output'][1].value" in error
    assert "1 artifact(s)" in error
