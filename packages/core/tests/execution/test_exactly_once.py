"""Runs that reach one cache key at once do the work once: one executes, the others wait and
reuse its outputs, or take over when its process dies. (On SQLite, and on MariaDB under
``--metadata-backend=mariadb``.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from hrexec_components import MARKER_ENV, SLEEP_ENV
from hrexec_util import (
    CACHED,
    COMPLETE,
    FAILED,
    FIXTURES,
    HELLO,
    RUNNING,
    all_executions,
    assert_consistent,
    cli_args,
    cli_env,
    node_executions,
    open_store,
    status,
    wait_for_file,
)

RUNS = 8


def test_eight_runs_at_once_do_each_node_once(tmp_path: Path) -> None:
    root = tmp_path / "root"
    procs = [
        subprocess.Popen(
            cli_args("run", str(HELLO), "--pipeline-root", str(root), "--json"),
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RUNS)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, f"{out}\n{err}"
    results = [json.loads(out) for out, _ in outputs]
    assert all(r["succeeded"] for r in results)

    store = open_store(root)
    assert_consistent(store)
    by_node: dict[str, list[int]] = {}
    for execution in all_executions(store):
        node_id = execution.custom_properties["node_id"].string_value
        by_node.setdefault(node_id, []).append(execution.last_known_state)
    assert set(by_node) == {"MakeNumbers", "Describe", "Train", "Evaluate", "Push"}
    for node_id, states in by_node.items():
        # One execution did the work; every other run linked its outputs.
        assert sorted(states) == sorted([COMPLETE] + [CACHED] * (RUNS - 1)), (node_id, states)
    assert sorted(os.listdir(root / "serving")) == ["1"]  # one model pushed


def test_a_waiting_run_takes_over_when_the_owner_dies(tmp_path: Path) -> None:
    root = tmp_path / "root"
    pipeline = str(FIXTURES / "pipe_crash.py")
    started = tmp_path / "owner-started"
    owner = subprocess.Popen(
        cli_args("run", pipeline, "--pipeline-root", str(root)),
        env=cli_env(**{MARKER_ENV: str(started), SLEEP_ENV: "300"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    waiter = None
    try:
        wait_for_file(started, owner)
        waiter = subprocess.Popen(
            cli_args("run", pipeline, "--pipeline-root", str(root), "--json"),
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The waiter reaches Sleepy (its MakeExamples is a cache hit) and must not start a
        # second execution of it while the owner lives.
        store = open_store(root)
        deadline = time.monotonic() + 60
        while len(node_executions(store, "crash", "MakeExamples")) < 2:
            assert waiter.poll() is None, waiter.communicate()
            assert time.monotonic() < deadline, "the waiting run never got past MakeExamples"
            time.sleep(0.05)
        time.sleep(1.0)
        assert waiter.poll() is None
        assert [e.last_known_state for e in node_executions(store, "crash", "Sleepy")] == [RUNNING]
    finally:
        os.kill(owner.pid, signal.SIGKILL)
        owner.communicate(timeout=30)  # reaped, so its pid is gone, not a zombie
    assert waiter is not None
    out, err = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, f"{out}\n{err}"
    result = json.loads(out)
    assert result["nodes"]["Sleepy"]["status"] == "complete"

    store = open_store(root)
    assert_consistent(store)
    abandoned, done = node_executions(store, "crash", "Sleepy")
    assert (abandoned.last_known_state, status(abandoned)) == (FAILED, "abandoned")
    assert f"pid {owner.pid}" in abandoned.custom_properties["error"].string_value
    assert done.last_known_state == COMPLETE
    # Nothing the dead owner staged is left.
    assert not list((root / "Sleepy" / "model").glob(f"{abandoned.id}*"))
