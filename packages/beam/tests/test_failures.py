"""A failing node: recorded, reported, its downstream nodes not run, independent branches
finished, on both isolations; a node that kills its own process; a Beam pipeline that fails."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from hrbeam_pipelines import branches
from hrbeam_util import (
    COMPLETE,
    FAILED,
    RUNNING,
    Events,
    headrace,
    open_store,
    run_context,
    run_executions,
    states,
)

from headrace_beam import BeamDagRunner
from headrace_core import HeadraceError
from headrace_core.metadata import custom

FIXTURES = Path(__file__).parent / "fixtures"


def _assert_independent_branch_finished(root: Path) -> None:
    (total,) = (root / "BeamSum" / "total").iterdir()
    assert json.loads((total / "sum.json").read_text())["sum"] == sum(range(100))


@pytest.mark.parametrize("isolation", ["subprocess", "in-process"])
def test_failing_node(tmp_path: Path, events: Events, isolation: str) -> None:
    root = tmp_path / "root"
    result = BeamDagRunner(on_event=events, isolation=isolation).run(branches(str(root)))

    assert not result.succeeded
    assert result.failed_nodes == ["Fail"]
    failure = result.results["Fail"]
    assert failure.message == "ValueError: hrbeam: this node fails on purpose"
    assert "hrbeam_components.py" in (failure.error or "")
    assert result.not_run == {
        "Consume": "upstream node 'Fail' did not succeed",
        "ConsumeMore": "upstream node 'Consume' did not succeed",
    }
    assert {n: r.status for n, r in result.results.items() if n != "Fail"} == {
        "Numbers": "complete",
        "BeamSum": "complete",
    }
    assert events.of("Fail") == ["queued", "running", "failed"]
    assert events.of("Consume") == ["queued", "not_run"]
    assert events.of("ConsumeMore") == ["queued", "not_run"]
    assert events.of("BeamSum") == ["queued", "running", "complete"]

    store = open_store(root)
    assert states(store, "branches", result.run_id) == {
        "Numbers": [COMPLETE],
        "BeamSum": [COMPLETE],
        "Fail": [FAILED],  # and nothing at all for the nodes that were not run
    }
    (recorded,) = run_executions(store, "branches", result.run_id)["Fail"]
    assert custom(recorded, "status") == "failed"
    assert "hrbeam: this node fails on purpose" in custom(recorded, "error")
    assert not (root / "Fail").exists() or not any((root / "Fail").rglob("*.json"))
    assert custom(run_context(store, "branches", result.run_id), "status") == "failed"
    _assert_independent_branch_finished(root)


def test_failing_node_through_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "root"
    proc = headrace(
        "run",
        str(FIXTURES / "branches_pipeline.py"),
        "--orchestrator",
        "beam",
        # The subprocess isolation's failures are covered above; in-process is faster.
        "--beam-arg=--headrace_isolation=in-process",
        cwd=tmp_path,
        HRBEAM_ROOT=str(root),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        "headrace: error: node 'Fail' failed: ValueError: hrbeam: this node fails on purpose"
        in proc.stderr
    )
    assert "3 complete" not in proc.stdout
    assert "2 complete, 1 failed, 2 not run" in proc.stdout
    _assert_independent_branch_finished(root)


def test_a_node_that_kills_its_process_fails_alone(tmp_path: Path, events: Events) -> None:
    """Why subprocess isolation is the default: a node that takes its interpreter down (a
    segfault, the OOM killer) fails by itself instead of ending the Beam pipeline."""
    root = tmp_path / "root"
    result = BeamDagRunner(on_event=events).run(branches(str(root), broken="Crash"))
    assert result.failed_nodes == ["Crash"]
    assert result.results["Crash"].message == (
        "node process exited with status 3 and left no result"
    )
    assert result.not_run == {
        "Consume": "upstream node 'Crash' did not succeed",
        "ConsumeMore": "upstream node 'Consume' did not succeed",
    }
    assert result.results["BeamSum"].status == "complete"
    _assert_independent_branch_finished(root)
    # The dead process's execution stays RUNNING until the node's next launch reaps it.
    assert states(open_store(root), "branches", result.run_id)["Crash"] == [RUNNING]


def test_a_failing_beam_pipeline_is_an_error_naming_it(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    runner = BeamDagRunner(
        [
            "--runner=PortableRunner",
            f"--job_endpoint=localhost:{port}",
            "--job_server_timeout=2",
            "--experiments=disable_logging_submission_environment",
        ]
    )
    root = tmp_path / "root"
    with pytest.raises(HeadraceError) as raised:
        runner.run(branches(str(root)))
    message = str(raised.value)
    assert "the Beam pipeline of run " in message
    assert "failed on PortableRunner" in message
    assert "nodes without an outcome: Numbers, BeamSum, Fail, Consume, ConsumeMore" in message
    store = open_store(root)
    (ctx,) = store.call("get_contexts_by_type", "headrace.pipeline_run")
    assert custom(ctx, "status") == "failed"
    # The steps' report folder is kept for a look.
    assert (root / ".headrace" / "runs" / custom(ctx, "run_id") / "beam").is_dir()
