"""``isolation="subprocess"`` (``python -m headrace_core.launch`` per node) records the same
outcome as running nodes in the runner's process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hrexec_components import AddOne, CountRows, Emit, Explode, MakeExamples, ModelSize
from hrexec_util import (
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


def _pipeline(root: Path, fail_file: Path) -> Pipeline:
    make = MakeExamples(rows=5)
    count = CountRows(examples=make.outputs["examples"])
    plus = AddOne(number=count.outputs["output"])
    with Cond(count.outputs["output"].future()[0].value > 100):
        skipped = Emit(value=1).with_id("NeverEmitted")
    explode = Explode(examples=make.outputs["examples"], fail_if_exists=str(fail_file))
    after = ModelSize(model=explode.outputs["model"]).with_id("AfterExplode")
    return Pipeline("isolation", str(root), [make, count, plus, skipped, explode, after])


def _outcome(root: Path, run_id: str) -> dict[str, Any]:
    store = open_store(root)
    assert_consistent(store)
    executions = by_node(run_executions(store, "isolation", run_id))
    values: dict[str, dict[str, list[str]]] = {}
    for node_id, e in executions.items():
        for key, ids in outputs_of(store, e).items():
            for a in store.artifacts(ids):
                path = os.path.join(a.uri, "value")
                if os.path.isfile(path):
                    with open(path) as f:
                        values.setdefault(node_id, {}).setdefault(key, []).append(f.read())
    return {
        "statuses": {n: status(e) for n, e in executions.items()},
        "states": {n: e.last_known_state for n, e in executions.items()},
        "values": values,
        "artifacts": len(all_artifacts(store)),
    }


@pytest.mark.sqlite_only("two roots, a store in each (metadata.sqlite); on MariaDB they share one")
def test_subprocess_isolation_matches_in_process(tmp_path: Path) -> None:
    fail_file = tmp_path / "fail"
    fail_file.touch()
    outcomes: dict[str, list[dict[str, Any]]] = {}
    for isolation in ("in-process", "subprocess"):
        root = tmp_path / isolation
        runner = LocalDagRunner(max_parallel=2, isolation=isolation)
        for _ in range(2):  # fresh, then from the cache
            result = runner.run(_pipeline(root, fail_file))
            assert not result.succeeded
            assert result.failed_nodes == ["Explode"]
            assert set(result.not_run) == {"AfterExplode"}
            assert "RuntimeError: boom" in (result.results["Explode"].error or "")
            outcome = _outcome(root, result.run_id)
            outcome["results"] = {n: r.status for n, r in result.results.items()}
            # The runner's result carries the outputs however the node ran.
            # (Folders without the execution id: parallel nodes may record in either order.)
            outcome["result_outputs"] = {
                n: {
                    k: [os.path.dirname(os.path.relpath(a.uri, root)) for a in v]
                    for k, v in r.outputs.items()
                }
                for n, r in result.results.items()
            }
            outcomes.setdefault(isolation, []).append(outcome)

    assert outcomes["in-process"] == outcomes["subprocess"]
    fresh, cached = outcomes["in-process"]
    for outcome, expected in ((fresh, "complete"), (cached, "cached")):
        assert outcome["statuses"] == {
            "MakeExamples": expected,
            "CountRows": expected,
            "AddOne": expected,
            "NeverEmitted": "skipped",
            "Explode": "failed",
        }
        assert outcome["results"] == outcome["statuses"]
        assert outcome["values"] == {"CountRows": {"output": ["5"]}, "AddOne": {"output": ["6"]}}
        assert outcome["artifacts"] == 3
        assert outcome["result_outputs"]["AddOne"] == {"output": [os.path.join("AddOne", "output")]}
        assert outcome["result_outputs"]["Explode"] == {}
