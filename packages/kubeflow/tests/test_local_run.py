"""The compiled spec really runs through kfp.local: the hello pipeline twice (complete, then
cached), a resubmitted run that does nothing twice, and a failing node reported as such."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kfpt_util import (
    FAILING,
    HELLO,
    HELLO_NODES,
    artifact_count,
    headrace,
    pipeline_env,
    run_context,
    run_executions,
    status_of,
)

from headrace_core.metadata import custom


def _run_spec(spec: Path, root: Path, *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "headrace_kubeflow.local", str(spec), "--json", *args],
        env=pipeline_env(root),
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert out.stdout.strip(), out.stderr[-4000:]
    outcome = dict(json.loads(out.stdout))
    assert out.returncode == (0 if outcome["succeeded"] else 1), out.stderr[-4000:]
    # kfp.local really ran the tasks: its own log lines are there.
    assert "Executing task" in out.stderr
    return outcome


def test_hello_through_kfp_local_twice(tmp_path: Path) -> None:
    root = tmp_path / "root"
    spec = tmp_path / "hello.yaml"
    out = headrace(
        "compile", str(HELLO), "--target", "kubeflow", "-o", str(spec),
        "--option", f"python={sys.executable}",
        root=root,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr

    first = _run_spec(spec, root)
    assert first["succeeded"] is True
    nodes = first["nodes"]
    assert isinstance(nodes, dict)
    assert {n: r["status"] for n, r in nodes.items()} == dict.fromkeys(HELLO_NODES, "complete")
    executions = run_executions(root, "hello", str(first["run_id"]))
    assert sorted(executions) == sorted(HELLO_NODES)
    assert {n: status_of(e) for n, e in executions.items()} == dict.fromkeys(
        HELLO_NODES, "complete"
    )
    # One headrace run for the whole KFP run: every task used the same run id.
    assert {custom(e, "run_id") for e in executions.values()} == {first["run_id"]}
    ctx = run_context(root, "hello", str(first["run_id"]))
    assert custom(ctx, "orchestrator") == "kubeflow"
    artifacts = artifact_count(root)
    assert artifacts > 0
    assert (root / "serving" / "1" / "model.json").is_file()

    second = _run_spec(spec, root)
    assert second["succeeded"] is True
    assert second["run_id"] != first["run_id"]
    statuses = {n: r["status"] for n, r in second["nodes"].items()}  # type: ignore[union-attr]
    assert statuses == dict.fromkeys(HELLO_NODES, "cached")
    cached = run_executions(root, "hello", str(second["run_id"]))
    assert {n: status_of(e) for n, e in cached.items()} == dict.fromkeys(HELLO_NODES, "cached")
    assert artifact_count(root) == artifacts  # a cache hit publishes nothing new
    assert not (root / "serving" / "2").exists()

    # KFP retrying a task, or a run resubmitted with the same run_id: what finished in that
    # run is not done twice.
    again = _run_spec(spec, root, "--run-id", str(first["run_id"]))
    assert again["succeeded"] is True
    for result in again["nodes"].values():  # type: ignore[union-attr]
        assert result["status"] == "complete"
        assert result["message"] == "already finished in this run"
    assert len(run_executions(root, "hello", str(first["run_id"]))) == len(HELLO_NODES)
    assert artifact_count(root) == artifacts


def test_failing_node_through_headrace_run(tmp_path: Path) -> None:
    # A root and an interpreter path that contain "python3", which kfp.local rewrites in
    # every task's command: the run must not notice.
    root = tmp_path / "python3-root"
    python = Path(sys.executable).with_name("python3")
    if not python.exists():
        python = Path(sys.executable)
    out = headrace(
        "run", str(FAILING), "--orchestrator", "kubeflow", "--json",
        f"--orchestrator-arg=python={python}",
        root=root,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr[-4000:]
    result = json.loads(out.stdout)
    assert result["succeeded"] is False
    assert result["nodes"]["Produce"]["status"] == "complete"
    assert result["nodes"]["Explode"]["status"] == "failed"
    assert result["not_run"] == {"Consume": "upstream node 'Explode' did not succeed"}
    assert "node 'Explode' failed" in out.stderr
    assert "conformance: this node fails on purpose" in out.stderr

    executions = run_executions(root, "failing", result["run_id"])
    assert {n: status_of(e) for n, e in executions.items()} == {
        "Produce": "complete",
        "Explode": "failed",
    }
    assert "ValueError: conformance: this node fails on purpose" in str(
        custom(executions["Explode"], "error")
    )
    ctx = run_context(root, "failing", result["run_id"])
    assert custom(ctx, "status") == "failed"
    assert custom(ctx, "orchestrator") == "kubeflow"
    # The spec and kfp.local's log stay beside the run, for a look afterwards.
    workdir = root / ".headrace" / "runs" / result["run_id"] / "kubeflow"
    assert (workdir / "pipeline.yaml").is_file()
    assert "Inner task failed" in (workdir / "kfp-local.log").read_text()


def test_runner_in_process_reports_events(tmp_path: Path) -> None:
    from kfpt_util import compile_ir

    from headrace_kubeflow import KubeflowRunner

    root = tmp_path / "root"
    document = compile_ir(FAILING, root)
    events = []
    runner = KubeflowRunner(on_event=events.append, options=["log=" + str(tmp_path / "kfp.log")])
    result = runner.run(document, run_id="my-run")
    assert result.run_id == "my-run"
    assert result.failed_nodes == ["Explode"]
    assert result.results["Produce"].outputs["examples"][0].uri.startswith(str(root))
    assert "ValueError" in (result.results["Explode"].error or "")
    final = [(e.node_id, e.status) for e in events if e.status != "queued"]
    assert final == [("Produce", "complete"), ("Explode", "failed"), ("Consume", "not_run")]
    assert runner.log_path == str(tmp_path / "kfp.log")
    assert os.path.getsize(runner.log_path) > 0


def test_a_broken_kfp_interpreter_is_reported(tmp_path: Path) -> None:
    from kfpt_util import compile_ir

    from headrace_core import HeadraceError
    from headrace_kubeflow import KubeflowRunner

    root = tmp_path / "root"
    document = compile_ir(FAILING, root)
    log = tmp_path / "kfp.log"
    # An interpreter that exits 1 at once: kfp.local never runs a task.
    runner = KubeflowRunner(options=["kfp_python=/bin/false", f"log={log}"])
    result = runner.run(document, run_id="broken")
    assert not result.succeeded
    assert result.results == {}
    assert result.not_run == dict.fromkeys(
        ["Produce", "Explode", "Consume"], f"kfp.local exited with status 1; see {log}"
    )
    assert custom(run_context(root, "failing", "broken"), "status") == "failed"
    with pytest.raises(HeadraceError, match="kfp_python: no interpreter at '/nonexistent/py'"):
        KubeflowRunner(options=["kfp_python=/nonexistent/py"])
    with pytest.raises(HeadraceError, match="python: no interpreter at 'no-such-python'"):
        KubeflowRunner(options=["python=no-such-python"])
