"""``Cond``: a false condition skips the node and everything that depends on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hrexec_components import AddOne, CountRows, MakeExamples, Train
from hrexec_util import (
    CANCELED,
    COMPLETE,
    all_artifacts,
    assert_consistent,
    by_node,
    open_store,
    outputs_of,
    run_executions,
    status,
)

from headrace_core import Cond, Pipeline
from headrace_core.orchestration.local import LocalDagRunner


def _pipeline(root: Path, rows: int) -> Pipeline:
    make = MakeExamples(rows=rows)
    count = CountRows(examples=make.outputs["examples"])
    with Cond(count.outputs["output"].future()[0].value >= 5):
        train = Train(examples=make.outputs["examples"])
        guarded = AddOne(number=count.outputs["output"]).with_id("Guarded")
    after = CountRows(examples=make.outputs["examples"]).with_id("AfterTrain")
    after.add_upstream_node(train)
    chained = AddOne(number=guarded.outputs["output"]).with_id("Chained")
    free = AddOne(number=count.outputs["output"]).with_id("Free")
    return Pipeline("conditions", str(root), [make, count, train, guarded, after, chained, free])


def test_false_condition_skips_the_node_and_its_dependants(pipeline_root: Path) -> None:
    result = LocalDagRunner(max_parallel=2).run(_pipeline(pipeline_root, rows=3))
    assert result.succeeded  # skipped nodes finish the run
    assert {n: r.status for n, r in result.results.items()} == {
        "MakeExamples": "complete",
        "CountRows": "complete",
        "Train": "skipped",
        "Guarded": "skipped",
        "AfterTrain": "skipped",
        "Chained": "skipped",
        "Free": "complete",
    }
    assert "is false (value: 3)" in result.results["Train"].message
    assert result.results["Chained"].message == "upstream node 'Guarded' was skipped"

    store = open_store(pipeline_root)
    executions = by_node(run_executions(store, "conditions", result.run_id))
    for node_id in ("Train", "Guarded", "AfterTrain", "Chained"):
        e = executions[node_id]
        assert e.last_known_state == CANCELED, node_id
        assert status(e) == "skipped"
        assert e.custom_properties["reason"].string_value
        assert outputs_of(store, e) == {}
    assert executions["Free"].last_known_state == COMPLETE
    assert not [a for a in all_artifacts(store) if "Train" in a.uri or "Guarded" in a.uri]
    assert_consistent(store)


@pytest.mark.parametrize("rows", [5, 8])
def test_true_condition_runs_the_node(pipeline_root: Path, rows: int) -> None:
    result = LocalDagRunner(max_parallel=2).run(_pipeline(pipeline_root, rows=rows))
    assert result.succeeded
    assert {r.status for r in result.results.values()} == {"complete"}
    store = open_store(pipeline_root)
    executions = by_node(run_executions(store, "conditions", result.run_id))
    [guarded_value] = outputs_of(store, executions["Guarded"])["output"]
    [value] = store.artifacts([guarded_value])
    assert value.custom_properties["value"].int_value == rows + 1
    assert outputs_of(store, executions["Train"])["model"]
