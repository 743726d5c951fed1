"""The compiled DAG in real Airflow (``HEADRACE_AIRFLOW_PYTHON``): it loads, runs hello,
reports failures as Airflow task states, and survives a task killed mid-node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hrairflow_testing import (
    HELLO,
    PIPELINES,
    Metadata,
    compile_pipeline,
    process_running,
    state_name,
    wait_for_file,
    wait_until,
    write_dag,
)

from headrace_airflow import run_id_prefix
from headrace_airflow.compiler import FINISH_TASK_ID
from headrace_airflow.local import AIRFLOW_PYTHON_ENV, LocalAirflow
from headrace_core.metadata import custom

HELLO_NODES = ["MakeNumbers", "Describe", "Train", "Evaluate", "Push"]
# Modules the DAG file must load without: the Airflow environment need not have them.
FORBIDDEN = ["headrace_core", "headrace_airflow", "ml_metadata", "tensorflow", "apache_beam"]
DAG_TEST_LIMIT = 600


def test_the_dag_loads_in_airflow_with_the_irs_tasks_and_edges(
    airflow: LocalAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = compile_pipeline(HELLO, {"HELLO_ROOT": str(tmp_path / "root")}, monkeypatch)
    dag_file, dag_id = write_dag(
        airflow,
        document,
        dag_id="hello_loads",
        schedule="@daily",
        start_date="2026-01-01",
        retries=2,
        retry_delay_seconds=60,
        execution_timeout_seconds=900,
        max_active_runs=1,
        tags="ml,nightly",
    )
    assert airflow.import_errors() == ""
    loaded = airflow.load_dag(dag_file, dag_id, forbidden=FORBIDDEN)
    assert loaded["dag_id"] == "hello_loads"
    assert sorted(loaded["tasks"]) == sorted([*HELLO_NODES, FINISH_TASK_ID])
    # The last task closes the run after every node, however each ended; it is not retried.
    finish = loaded["tasks"][FINISH_TASK_ID]
    assert finish["upstream"] == sorted(HELLO_NODES)
    assert (finish["trigger_rule"], finish["retries"]) == ("all_done", 0)
    assert finish["operator"] == "HeadraceFinishRunOperator"
    for node in document["nodes"]:
        task = loaded["tasks"][node["id"]]
        assert task["upstream"] == sorted(node["upstream"])
        assert task["retries"] == 2
        assert task["retry_delay"] == 60.0
        assert task["execution_timeout"] == 900.0
        assert task["trigger_rule"] == "none_failed"
        assert task["operator"] == "HeadraceNodeOperator"
    assert loaded["start_date"] == "2026-01-01T00:00:00+00:00"
    assert loaded["catchup"] is False
    assert loaded["tags"] == ["ml", "nightly"]
    assert loaded["max_active_runs"] == 1
    assert loaded["schedule"] in ("@daily", "0 0 * * *")  # 2.x may show the cron line


def test_import_errors_are_seen(airflow: LocalAirflow) -> None:
    assert airflow.dags_folder is not None
    broken = airflow.dags_folder / "broken_dag.py"
    broken.write_text("from airflow import DAG\nraise RuntimeError('broken on purpose')\n")
    assert "broken on purpose" in airflow.import_errors()
    with pytest.raises(Exception, match="broken on purpose"):
        airflow.load_dag(broken, "broken")


def test_hello_runs_then_is_cached(
    airflow: LocalAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    document = compile_pipeline(HELLO, {"HELLO_ROOT": str(root)}, monkeypatch)
    _, dag_id = write_dag(airflow, document, dag_id="hello_twice")

    # First DAG run: the headrace run id derives from Airflow's run id.
    first = airflow.dags_test(dag_id, logical_date="2026-01-01", timeout=DAG_TEST_LIMIT)
    assert first.returncode == 0, first.stdout[-4000:]
    [(airflow_run_id, dag_run)] = airflow.dag_runs(dag_id).items()
    assert dag_run["state"] == "success"
    assert dag_run["tasks"] == dict.fromkeys([*HELLO_NODES, FINISH_TASK_ID], "success")
    metadata = Metadata(root, "hello")
    [run_id] = metadata.runs()
    assert run_id == run_id_prefix(dag_id, "hello") + airflow_run_id
    ctx = metadata.run_context(run_id)
    assert custom(ctx, "orchestrator") == "airflow"
    # Closed by the DAG's last task, which is no node: the run holds the nodes' executions.
    assert custom(ctx, "status") == "succeeded"
    assert custom(ctx, "finished_at")
    executions = metadata.by_node(run_id)
    assert sorted(executions) == sorted(HELLO_NODES)
    for node_id, [execution] in executions.items():
        assert (execution.status, state_name(execution.state)) == ("complete", "COMPLETE")
        assert len(metadata.live_outputs(run_id, node_id)) == len(
            document["nodes"][HELLO_NODES.index(node_id)]["outputs"]
        )

    # Second DAG run, with the run id given in its conf: every node cached from the first.
    second = airflow.dags_test(
        dag_id,
        logical_date="2026-01-02",
        conf={"headrace_run_id": "second-run"},
        timeout=DAG_TEST_LIMIT,
    )
    assert second.returncode == 0, second.stdout[-4000:]
    assert sorted(metadata.runs()) == sorted([run_id, "second-run"])
    assert custom(metadata.run_context("second-run"), "status") == "succeeded"
    cached = metadata.by_node("second-run")
    for node_id, [execution] in cached.items():
        assert (execution.status, state_name(execution.state)) == ("cached", "CACHED")
        assert execution.cached_from == executions[node_id][0].id
    assert sorted(cached) == sorted(HELLO_NODES)


def test_a_failing_node_fails_its_task_and_stops_downstream(
    airflow: LocalAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    document = compile_pipeline(
        PIPELINES / "failing.py", {"AIRFLOW_TEST_ROOT": str(root)}, monkeypatch
    )
    _, dag_id = write_dag(airflow, document)
    proc = airflow.dags_test(dag_id, conf={"headrace_run_id": "fails"}, timeout=DAG_TEST_LIMIT)
    assert proc.returncode != 0
    assert "fails on purpose" in proc.stdout
    [dag_run] = airflow.dag_runs(dag_id).values()
    assert dag_run["state"] == "failed"
    assert dag_run["tasks"] == {
        "Produce": "success",
        "Fail": "failed",
        "After": "upstream_failed",
        FINISH_TASK_ID: "failed",
    }
    metadata = Metadata(root, "hrairflow-failing")
    ctx = metadata.run_context("fails")
    assert custom(ctx, "status") == "failed"
    assert custom(ctx, "finished_at")
    assert "headrace run fails did not succeed" in proc.stdout
    executions = metadata.by_node("fails")
    assert sorted(executions) == ["Fail", "Produce"]
    [failed] = executions["Fail"]
    assert (failed.status, state_name(failed.state)) == ("failed", "FAILED")
    assert "ValueError: airflow test: this node fails on purpose" in (failed.error or "")


def test_skipped_nodes_skip_their_tasks_and_are_recorded(
    airflow: LocalAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    document = compile_pipeline(
        PIPELINES / "skipping.py", {"AIRFLOW_TEST_ROOT": str(root)}, monkeypatch
    )
    assert "Count" in document["nodes"][2]["upstream"]
    _, dag_id = write_dag(airflow, document)
    proc = airflow.dags_test(dag_id, conf={"headrace_run_id": "skips"}, timeout=DAG_TEST_LIMIT)
    assert proc.returncode == 0, proc.stdout[-4000:]
    [dag_run] = airflow.dag_runs(dag_id).values()
    assert dag_run["state"] == "success"
    assert dag_run["tasks"] == {
        "Produce": "success",
        "Count": "success",
        "Never": "skipped",
        "AfterNever": "skipped",
        FINISH_TASK_ID: "success",
    }
    metadata = Metadata(root, "hrairflow-skipping")
    assert custom(metadata.run_context("skips"), "status") == "succeeded"
    executions = metadata.by_node("skips")
    statuses = {
        node: [(e.status, state_name(e.state)) for e in ex] for node, ex in executions.items()
    }
    assert statuses == {
        "Produce": [("complete", "COMPLETE")],
        "Count": [("complete", "COMPLETE")],
        "Never": [("skipped", "CANCELED")],
        "AfterNever": [("skipped", "CANCELED")],
    }


def _waiting_pipeline(
    airflow: LocalAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: object
) -> tuple[Path, Path, str]:
    root, signals = tmp_path / "root", tmp_path / "signals"
    signals.mkdir()
    document = compile_pipeline(
        PIPELINES / "waiting.py",
        {"AIRFLOW_TEST_ROOT": str(root), "AIRFLOW_TEST_SIGNALS": str(signals)},
        monkeypatch,
    )
    _, dag_id = write_dag(airflow, document, **options)
    return root, signals, dag_id


def _dags_test_args(dag_id: str, run_id: str) -> list[str]:
    return ["dags", "test", dag_id, "2026-02-01", "--conf", f'{{"headrace_run_id": "{run_id}"}}']


def _assert_one_complete_after_an_abandoned_attempt(root: Path, run_id: str) -> None:
    metadata = Metadata(root, "hrairflow-waiting")
    executions = metadata.by_node(run_id)
    attempts = [(e.status, state_name(e.state)) for e in executions["Wait"]]
    assert attempts == [("abandoned", "FAILED"), ("complete", "COMPLETE")]
    assert "abandoned" in (executions["Wait"][0].error or "")
    assert metadata.outputs(executions["Wait"][0].id) == []
    [live] = metadata.live_outputs(run_id, "Wait")
    assert live.uri.endswith(f"/Wait/examples/{executions['Wait'][1].id}")
    [count] = executions["Count"]
    assert count.status == "complete"
    assert metadata.inputs(count.id) == [live.id]
    leftovers = [p.name for p in (root / "Wait" / "examples").iterdir()]
    assert leftovers == [str(executions["Wait"][1].id)], leftovers


def test_airflow_retries_a_node_whose_process_was_killed(
    airflow: LocalAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node's process dies (SIGKILL) mid-run; Airflow's retry, in the same DAG run,
    records that execution abandoned and runs the node once more."""
    root, signals, dag_id = _waiting_pipeline(
        airflow, tmp_path, monkeypatch, retries=1, retry_delay_seconds=0
    )
    log = tmp_path / "dags_test.log"
    process = airflow.popen(_dags_test_args(dag_id, "killed-node"), log)
    try:
        started = wait_for_file(signals, "started-", process, log)
        os.kill(int(started.read_text()), signal.SIGKILL)
        (signals / "go").touch()
        assert process.wait(DAG_TEST_LIMIT) == 0, log.read_text()[-4000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    starts = sorted(signals.glob("started-*"))
    assert len(starts) == 2
    # The killed node's own child went with its process group.
    for start in starts:
        helper_pid = int((signals / start.name.replace("started-", "child-")).read_text())
        wait_until(lambda pid=helper_pid: not process_running(pid))
    [dag_run] = airflow.dag_runs(dag_id).values()
    assert dag_run["tasks"] == {"Wait": "success", "Count": "success", FINISH_TASK_ID: "success"}
    assert custom(Metadata(root, "hrairflow-waiting").run_context("killed-node"), "status") == (
        "succeeded"
    )
    assert "was killed by signal 9 before it finished" in log.read_text()
    _assert_one_complete_after_an_abandoned_attempt(root, "killed-node")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_a_killed_task_takes_its_node_along_and_the_retry_reaps_it(
    airflow: LocalAirflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signal_name: str
) -> None:
    """The Airflow process running the task is killed mid-node: SIGTERM (Airflow's on_kill
    path) stops the node's whole process group before the task ends; SIGKILL takes the node
    down through the kernel. Running the task again in the same run, as Airflow's retry does,
    ends with one COMPLETE execution and one set of LIVE outputs."""
    root, signals, dag_id = _waiting_pipeline(airflow, tmp_path, monkeypatch, retries=0)
    log = tmp_path / "dags_test.log"
    process = airflow.popen(_dags_test_args(dag_id, "killed-task"), log)
    try:
        started = wait_for_file(signals, "started-", process, log)
        node_pid = int(started.read_text())
        helper_pid = int((signals / f"child-{node_pid}").read_text())
        process.send_signal(getattr(signal, signal_name))
        assert process.wait(DAG_TEST_LIMIT) != 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if signal_name == "SIGTERM":
        # The task waited for the node to exit before it ended, then SIGKILLed its group.
        assert not process_running(node_pid)
        wait_until(lambda: not process_running(helper_pid))
    else:
        # The kernel's parent-death signal; then nothing waits on the node but init.
        wait_until(lambda: not process_running(node_pid))
        os.kill(helper_pid, signal.SIGKILL)  # outside the group's reach: the test cleans up
    metadata = Metadata(root, "hrairflow-waiting")
    [interrupted] = metadata.by_node("killed-task")["Wait"]
    assert (interrupted.status, state_name(interrupted.state)) == ("running", "RUNNING")
    assert metadata.live_outputs("killed-task", "Wait") == []

    (signals / "go").touch()
    retry = airflow.dags_test(
        dag_id, logical_date="2026-02-01", conf={"headrace_run_id": "killed-task"}
    )
    assert retry.returncode == 0, retry.stdout[-4000:]
    _assert_one_complete_after_an_abandoned_attempt(root, "killed-task")


def test_headrace_run_on_airflow(airflow_python: str, airflow_home: Path, tmp_path: Path) -> None:
    """``headrace run --orchestrator airflow``: one DAG run through ``airflow dags test``."""
    root = tmp_path / "root"
    env = {**os.environ, "HELLO_ROOT": str(root), AIRFLOW_PYTHON_ENV: airflow_python}
    command = [sys.executable, "-m", "headrace_core.cli", "run", str(HELLO)]
    command += ["--orchestrator", "airflow", "--orchestrator-arg=retries=1"]
    command += [f"--orchestrator-arg=airflow_home={airflow_home}"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "on airflow" in proc.stdout
    metadata = Metadata(root, "hello")
    [run_id] = metadata.runs()
    assert run_id in proc.stdout
    ctx = metadata.run_context(run_id)
    assert custom(ctx, "status") == "succeeded"
    assert custom(ctx, "orchestrator") == "airflow"
    assert {e.status for e in metadata.executions(run_id)} == {"complete"}
    assert "RETRIES = 1\n" in (airflow_home / "dags" / "hello" / "hello.py").read_text()
