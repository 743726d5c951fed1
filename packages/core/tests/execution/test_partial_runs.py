"""Partial runs through ``headrace run``: --to-nodes, --from-nodes and --resume."""

from __future__ import annotations

import json
from pathlib import Path

from hrexec_util import (
    COMPLETE,
    FIXTURES,
    as_json,
    by_node,
    headrace,
    inputs_of,
    node_executions,
    ok,
    open_store,
    outputs_of,
    run_executions,
    statuses,
)

WIDE = str(FIXTURES / "pipe_wide.py")
FAILING = str(FIXTURES / "pipe_failing.py")


def test_to_nodes_runs_only_the_upstream_closure(tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = as_json(
        headrace("run", WIDE, "--pipeline-root", str(root), "--to-nodes", "AddOneCount", "--json")
    )
    assert result["succeeded"]
    assert {k: v["status"] for k, v in result["nodes"].items()} == {
        "MakeExamples": "complete",
        "CountRows": "complete",
        "AddOneCount": "complete",
    }
    store = open_store(root)
    assert set(by_node(run_executions(store, "wide", result["run_id"]))) == {
        "MakeExamples",
        "CountRows",
        "AddOneCount",
    }
    for other in ("SumColumn", "AddOneSum", "Train", "ModelSize", "Emit"):
        assert node_executions(store, "wide", other) == []


def test_from_nodes_reuses_the_latest_outputs_of_nodes_not_run(tmp_path: Path) -> None:
    root = tmp_path / "root"
    args = ("run", WIDE, "--pipeline-root", str(root), "--json")
    first = as_json(headrace(*args))
    assert first["succeeded"]
    # A newer MakeExamples output, made by a partial run that stops there.
    second = as_json(headrace(*args, "--to-nodes", "MakeExamples", HREXEC_ROWS="9"))
    assert second["nodes"]["MakeExamples"]["status"] == "complete"
    [latest_examples] = second["nodes"]["MakeExamples"]["outputs"]["examples"]
    [first_examples] = first["nodes"]["MakeExamples"]["outputs"]["examples"]
    assert latest_examples != first_examples

    third = as_json(headrace(*args, "--from-nodes", "Train", HREXEC_SEED="5"))
    assert third["succeeded"]
    assert {k: v["status"] for k, v in third["nodes"].items()} == {
        "Train": "complete",
        "ModelSize": "complete",
    }
    store = open_store(root)
    executions = by_node(run_executions(store, "wide", third["run_id"]))
    assert set(executions) == {"Train", "ModelSize"}
    assert inputs_of(store, executions["Train"]) == {"examples": [latest_examples]}
    [model_id] = outputs_of(store, executions["Train"])["model"]
    assert inputs_of(store, executions["ModelSize"]) == {"model": [model_id]}
    [model] = store.artifacts([model_id])
    assert json.loads((Path(model.uri) / "model.json").read_text()) == {"rows": 9, "seed": 5}
    shown = as_json(
        headrace("runs", "show", third["run_id"], "--pipeline-root", str(root), "--json")
    )
    assert shown["reused_nodes"] == [
        "AddOneCount",
        "AddOneSum",
        "CountRows",
        "Emit",
        "MakeExamples",
        "SumColumn",
    ]


def test_resume_reexecutes_only_failed_and_never_run_nodes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    fail_file = tmp_path / "fail"
    fail_file.touch()
    args = ("run", FAILING, "--pipeline-root", str(root), "--json")
    proc = headrace(*args, HREXEC_FAIL_FILE=str(fail_file))
    assert proc.returncode == 1
    first = json.loads(proc.stdout)
    run_id = first["run_id"]
    store = open_store(root)
    before = {e.id for e in run_executions(store, "failing", run_id)}
    assert statuses(store, "failing", run_id) == {
        "MakeExamples": "complete",
        "Explode": "failed",
        "CountRows": "complete",
        "AddOne": "complete",
    }

    fail_file.unlink()
    resumed = as_json(headrace(*args, "--resume", run_id, HREXEC_FAIL_FILE=str(fail_file)))
    assert resumed["run_id"] == run_id
    assert resumed["succeeded"]
    executed = {k for k, v in resumed["nodes"].items() if v["execution_id"] is not None}
    assert executed == {"Explode", "AfterExplode"}

    new = [e for e in run_executions(store, "failing", run_id) if e.id not in before]
    assert sorted(e.custom_properties["node_id"].string_value for e in new) == [
        "AfterExplode",
        "Explode",
    ]
    assert all(e.last_known_state == COMPLETE for e in new)
    assert statuses(store, "failing", run_id) == {
        "MakeExamples": "complete",
        "Explode": "complete",
        "AfterExplode": "complete",
        "CountRows": "complete",
        "AddOne": "complete",
    }
    shown = as_json(headrace("runs", "show", run_id, "--pipeline-root", str(root), "--json"))
    assert shown["status"] == "succeeded"
    rows = {r["node_id"]: r for r in shown["nodes"]}
    assert rows["Explode"]["attempts"] == 2
    assert rows["MakeExamples"]["attempts"] == 1


def test_resume_of_an_unknown_run_fails_and_records_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    ok(headrace("run", WIDE, "--pipeline-root", str(root), "--to-nodes", "MakeExamples"))
    proc = headrace("run", WIDE, "--pipeline-root", str(root), "--resume", "no-such-run")
    assert proc.returncode == 1
    assert "run 'no-such-run' of pipeline 'wide' does not exist" in proc.stderr
    runs = as_json(headrace("runs", "list", "--pipeline-root", str(root), "--json"))
    assert [r["run_id"] for r in runs if r["run_id"] == "no-such-run"] == []
    assert len(runs) == 1
