"""The compiled spec really runs through kfp.local: the hello pipeline twice (complete, then
cached), a resubmitted run that does nothing twice, and a failing node reported as such."""

from __future__ import annotations

import json
import os
import signal
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
    # Closed by the spec's exit handler, which is no node (the run holds the nodes alone).
    assert custom(ctx, "status") == "succeeded"
    assert custom(ctx, "finished_at")
    artifacts = artifact_count(root)
    assert artifacts > 0
    assert (root / "serving" / "1" / "model.json").is_file()

    second = _run_spec(spec, root)
    assert second["succeeded"] is True
    assert second["run_id"] != first["run_id"]
    statuses = {n: r["status"] for n, r in second["nodes"].items()}  # type: ignore[union-attr]
    assert statuses == dict.fromkeys(HELLO_NODES, "cached")
    assert custom(run_context(root, "hello", str(second["run_id"])), "status") == "succeeded"
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


def test_a_failing_spec_through_kfp_local_closes_its_run_failed(tmp_path: Path) -> None:
    """Without headrace run: after the failed task kfp.local runs nothing more, the exit
    handler included, so headrace_kubeflow.local closes the run as it would have."""
    root = tmp_path / "root"
    spec = tmp_path / "failing.yaml"
    out = headrace(
        "compile", str(FAILING), "--target", "kubeflow", "-o", str(spec),
        "--option", f"python={sys.executable}",
        root=root,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    outcome = _run_spec(spec, root, "--run-id", "fails-here")
    assert outcome["succeeded"] is False
    ctx = run_context(root, "failing", "fails-here")
    assert custom(ctx, "status") == "failed"
    assert custom(ctx, "finished_at")
    assert sorted(run_executions(root, "failing", "fails-here")) == ["Explode", "Produce"]


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


def test_an_ir_argument_containing_python3_runs(tmp_path: Path) -> None:
    from kfpt_util import compile_ir

    from headrace_kubeflow import run_spec
    from headrace_kubeflow.compiler import compile_pipeline

    spec = tmp_path / "failing.yaml"
    compiled = compile_ir(FAILING, tmp_path / "compiled-root")
    spec.write_text(compile_pipeline(compiled, options={"python": sys.executable}))
    # The run's own IR, given plainly: the same pipeline in a root whose path holds the
    # string kfp.local rewrites in every task's command.
    root = tmp_path / "python3-root"
    document = compile_ir(FAILING, root)
    assert "python3" in json.dumps(document)
    results = tmp_path / "results"
    ok = run_spec(
        str(spec),
        arguments={"ir": json.dumps(document), "run_id": "ir-arg", "result_dir": str(results)},
        kfp_root=str(tmp_path / "kfp"),
    )
    assert ok is False  # Explode fails on purpose; Produce, before it, must not
    produce = json.loads((results / "Produce.json").read_text())
    assert produce["status"] == "complete", produce
    executions = run_executions(root, "failing", "ir-arg")
    assert {n: status_of(e) for n, e in executions.items()} == {
        "Produce": "complete",
        "Explode": "failed",
    }
    assert str(custom(executions["Produce"], "run_id")) == "ir-arg"


def test_run_arguments_refuse_a_metadata_password(tmp_path: Path) -> None:
    from kfpt_util import compile_ir

    from headrace_core import HeadraceError
    from headrace_kubeflow import run_spec
    from headrace_kubeflow.compiler import compile_pipeline

    document = compile_ir(FAILING, tmp_path / "root")
    spec = tmp_path / "failing.yaml"
    spec.write_text(compile_pipeline(document))
    url = "mysql://u:s3cret@db:3306/mlmd"
    with pytest.raises(HeadraceError, match=r"argument metadata='mysql://u:\*\*\*@db"):
        run_spec(str(spec), arguments={"metadata": url})
    document["pipeline"]["metadata_connection_config"] = url
    with pytest.raises(HeadraceError, match="argument ir: metadata_connection_config="):
        run_spec(str(spec), arguments={"ir": json.dumps(document)})
    out = subprocess.run(
        [sys.executable, "-m", "headrace_kubeflow.local", str(spec), "--metadata", url],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 2
    assert "--metadata='mysql://u:***@db:3306/mlmd' holds a password" in out.stderr
    assert "HEADRACE_METADATA" in out.stderr
    assert "s3cret" not in out.stderr


def test_the_metadata_url_stays_off_command_lines_and_out_of_the_spec(tmp_path: Path) -> None:
    from kfpt_util import compile_ir, recording_interpreter

    from headrace_kubeflow import KubeflowRunner

    root = tmp_path / "root"
    document = compile_ir(FAILING, root)
    # The pipeline's own store has a password; the run uses another, given to the runner.
    # Neither URL may show in the spec, in a command line or in kfp.local's log.
    document["pipeline"]["metadata_connection_config"] = "mysql://u:s3cret@127.0.0.1:9/mlmd"
    url = f"sqlite:///{tmp_path / 'private-store' / 'mlmd.sqlite'}"
    commands = tmp_path / "commands.log"
    python = recording_interpreter(tmp_path / "recording-python", commands)
    log = tmp_path / "kfp.log"
    runner = KubeflowRunner(
        metadata_url=url, options=[f"python={python}", f"kfp_python={python}", f"log={log}"]
    )
    result = runner.run(document, run_id="private")
    assert result.metadata_url == url
    assert result.failed_nodes == ["Explode"]
    assert result.results["Produce"].status == "complete"
    # The nodes used the runner's store: the URL reached them.
    executions = run_executions(root, "failing", "private", url=url)
    assert {n: status_of(e) for n, e in executions.items()} == {
        "Produce": "complete",
        "Explode": "failed",
    }
    assert custom(run_context(root, "failing", "private", url=url), "status") == "failed"

    lines = commands.read_text().splitlines()
    assert sum("-m headrace_kubeflow.local" in line for line in lines) == 1
    launches = [line for line in lines if "-m headrace_core.launch" in line]
    # Two nodes, then the closing of the run (kfp.local ran no exit handler after a failure).
    assert [("--finish-run" in line, "--node" in line) for line in launches] == [
        (False, True),
        (False, True),
        (True, False),
    ]
    spec = root / ".headrace" / "runs" / "private" / "kubeflow" / "pipeline.yaml"
    for where, text in [("command", line) for line in lines] + [
        ("spec", spec.read_text()),
        ("kfp.local log", log.read_text()),
    ]:
        assert "private-store" not in text, (where, text[:2000])
        assert "s3cret" not in text, (where, text[:2000])


def test_an_exception_from_on_event_stops_kfp_local(tmp_path: Path) -> None:
    from kfpt_util import compile_ir, kfp_local_children

    from headrace_kubeflow import KubeflowRunner

    root = tmp_path / "root"
    document = compile_ir(FAILING, root)
    children: list[int] = []

    def on_event(event: object) -> None:
        if getattr(event, "status", "") == "queued":
            return
        # Produce is done; kfp.local goes on with Explode.
        children.extend(kfp_local_children(os.getpid()))
        raise RuntimeError("the caller gives up")

    runner = KubeflowRunner(on_event=on_event, options=[f"log={tmp_path / 'kfp.log'}"])
    try:
        with pytest.raises(RuntimeError, match="the caller gives up"):
            runner.run(document, run_id="given-up")
        assert len(children) == 1
        # Stopped and reaped: no longer a child of this process, running or not.
        with pytest.raises(ChildProcessError):
            os.waitpid(children[0], os.WNOHANG)
    finally:
        _kill_left_behind(children)
    assert custom(run_context(root, "failing", "given-up"), "status") == "failed"


def test_sigterm_stops_kfp_local_and_marks_the_run_failed(tmp_path: Path) -> None:
    from kfpt_util import command_line, compile_ir, kfp_local_children

    root = tmp_path / "root"
    ir_file = tmp_path / "failing.json"
    ir_file.write_text(json.dumps(compile_ir(FAILING, root)))
    script = (
        "import json, sys\n"
        "from headrace_kubeflow import KubeflowRunner\n"
        "runner = KubeflowRunner(\n"
        "    on_event=lambda e: print(e.node_id, e.status, flush=True),\n"
        "    options=['log=' + sys.argv[2]],\n"
        ")\n"
        "runner.run(json.load(open(sys.argv[1])), run_id='terminated')\n"
    )
    stderr = tmp_path / "stderr.txt"
    children: list[int] = []
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(ir_file), str(tmp_path / "kfp.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=pipeline_env(root),
        )
    try:
        assert proc.stdout is not None
        events = []
        for line in proc.stdout:
            events.append(line.split())
            if events[-1] == ["Produce", "complete"]:
                break
        assert events[-1] == ["Produce", "complete"], (events, stderr.read_text()[-4000:])
        children = kfp_local_children(proc.pid)
        assert len(children) == 1
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _kill_left_behind(children)
    # It ended as a SIGTERM'd shell command does, after stopping kfp.local.
    assert proc.returncode == 128 + signal.SIGTERM, stderr.read_text()[-4000:]
    assert "headrace_kubeflow.local" not in command_line(children[0])
    assert custom(run_context(root, "failing", "terminated"), "status") == "failed"


def _kill_left_behind(pids: list[int]) -> None:
    """Kill a kfp.local child that was not stopped (the failure these tests look for), with
    its process group when it leads one of its own (never this process's group)."""
    from kfpt_util import command_line

    for pid in pids:
        if "headrace_kubeflow.local" not in command_line(pid):
            continue
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
