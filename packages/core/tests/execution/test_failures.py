"""A failing executor: reported on the command line, recorded in MLMD, nothing published."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hrexec_components import BrokenImport, CountRows, MakeExamples, ModelSize, WriteNothing
from hrexec_util import (
    COMPLETE,
    FAILED,
    FIXTURES,
    all_artifacts,
    as_json,
    assert_consistent,
    by_node,
    headrace,
    node_executions,
    ok,
    open_store,
    outputs_of,
    run_executions,
    staging_dirs,
    status,
)

from headrace_core import Pipeline
from headrace_core.orchestration.local import LocalDagRunner

PIPELINE = str(FIXTURES / "pipe_failing.py")


def test_failing_executor_is_reported_recorded_and_publishes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    fail_file = tmp_path / "fail"
    fail_file.touch()
    proc = headrace(
        "run", PIPELINE, "--pipeline-root", str(root), "--json", HREXEC_FAIL_FILE=str(fail_file)
    )
    assert proc.returncode == 1, proc.stderr
    assert "node 'Explode' failed" in proc.stderr
    assert "RuntimeError: boom: exploded on 6 rows" in proc.stderr
    result = json.loads(proc.stdout)
    run_id = result["run_id"]
    assert not result["succeeded"]
    assert {k: v["status"] for k, v in result["nodes"].items()} == {
        "MakeExamples": "complete",
        "Explode": "failed",
        "CountRows": "complete",
        "AddOne": "complete",
    }
    assert set(result["not_run"]) == {"AfterExplode"}

    store = open_store(root)
    executions = by_node(run_executions(store, "failing", run_id))
    assert set(executions) == {"MakeExamples", "Explode", "CountRows", "AddOne"}
    failed = executions["Explode"]
    assert failed.last_known_state == FAILED
    assert status(failed) == "failed"
    error = failed.custom_properties["error"].string_value
    assert "Traceback" in error
    assert "RuntimeError: boom: exploded on 6 rows" in error
    assert outputs_of(store, failed) == {}
    assert executions["AddOne"].last_known_state == COMPLETE
    # Nothing of Explode was published, and its staged output is gone.
    assert not [a for a in all_artifacts(store) if f"{os.sep}Explode{os.sep}" in a.uri]
    assert staging_dirs(root) == []
    assert not (root / "Explode" / "model" / f"{failed.id}.staging").exists()
    assert not (root / ".tmp" / str(failed.id)).exists()
    assert_consistent(store)

    shown = as_json(headrace("runs", "show", run_id, "--pipeline-root", str(root), "--json"))
    assert shown["status"] == "failed"
    rows = {r["node_id"]: r for r in shown["nodes"]}
    assert rows["Explode"]["status"] == "failed"
    assert "RuntimeError: boom: exploded on 6 rows" in rows["Explode"]["error"]
    assert rows["AfterExplode"]["status"] == "not run"
    assert rows["AddOne"]["status"] == "complete"
    text = ok(headrace("runs", "show", run_id, "--pipeline-root", str(root))).stdout
    assert "boom: exploded on 6 rows" in text
    assert "not run" in text


def test_required_output_left_empty_fails_naming_node_and_output(pipeline_root: Path) -> None:
    make = MakeExamples()
    lazy = WriteNothing(examples=make.outputs["examples"])
    after = ModelSize(model=lazy.outputs["model"])
    pipeline = Pipeline("empty", str(pipeline_root), [make, lazy, after])
    result = LocalDagRunner(max_parallel=2).run(pipeline)
    assert not result.succeeded
    failure = result.results["WriteNothing"]
    assert failure.status == "failed"
    assert failure.message == (
        f"LaunchError: node 'WriteNothing' produced an empty output 'model': the executor "
        f"wrote nothing to {pipeline_root / 'WriteNothing' / 'model' / f'{failure.execution_id}'}"
        ".staging"
    )
    assert set(result.not_run) == {"ModelSize"}

    store = open_store(pipeline_root)
    [execution] = node_executions(store, "empty", "WriteNothing")
    assert execution.last_known_state == FAILED
    assert "empty output 'model'" in execution.custom_properties["error"].string_value
    assert outputs_of(store, execution) == {}
    assert staging_dirs(pipeline_root) == []
    assert_consistent(store)


def test_executor_package_failing_to_import_fails_only_that_node(pipeline_root: Path) -> None:
    make = MakeExamples()
    broken = BrokenImport(examples=make.outputs["examples"])
    after = ModelSize(model=broken.outputs["model"])
    count = CountRows(examples=make.outputs["examples"])
    pipeline = Pipeline("broken", str(pipeline_root), [make, broken, after, count])
    result = LocalDagRunner(max_parallel=2).run(pipeline)
    assert {n: r.status for n, r in result.results.items()} == {
        "MakeExamples": "complete",
        "BrokenImport": "failed",
        "CountRows": "complete",
    }
    assert set(result.not_run) == {"ModelSize"}
    assert result.results["BrokenImport"].message == (
        "RuntimeError: hrexec_broken cannot be imported here"
    )
    store = open_store(pipeline_root)
    [execution] = node_executions(store, "broken", "BrokenImport")
    assert execution.last_known_state == FAILED
    assert "hrexec_broken cannot be imported here" in (
        execution.custom_properties["error"].string_value
    )
    assert staging_dirs(pipeline_root) == []
