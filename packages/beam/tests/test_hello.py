"""The hello pipeline on Beam, first run complete and second fully cached: through the real
``headrace run`` on the DirectRunner, and through ``BeamDagRunner`` on a PortableRunner with an
embedded job server."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hrbeam_util import (
    CACHED,
    COMPLETE,
    HELLO,
    HELLO_NODES,
    PORTABLE,
    Events,
    headrace,
    open_store,
    outputs,
    run_context,
    run_executions,
    run_json,
    states,
)

from headrace_beam import BeamDagRunner
from headrace_core.metadata import custom


def _assert_first_run(root: Path, run_id: str) -> dict[str, dict[str, list[int]]]:
    """Every node ran once and completed, after its upstream nodes; returns their outputs."""
    store = open_store(root)
    assert states(store, "hello", run_id) == {n: [COMPLETE] for n in HELLO_NODES}
    ctx = run_context(store, "hello", run_id)
    assert custom(ctx, "orchestrator") == "beam"
    assert custom(ctx, "status") == "succeeded"
    executions = {n: ex[0] for n, ex in run_executions(store, "hello", run_id).items()}
    upstream = {"Describe": ["MakeNumbers"], "Train": ["MakeNumbers"], "Evaluate": ["Train"]}
    upstream["Push"] = ["Train", "Evaluate"]
    for node, ups in upstream.items():
        for up in ups:
            # MLMD's millisecond clock: a consumer starts no earlier than its producer ended.
            assert (
                executions[node].create_time_since_epoch
                >= executions[up].last_update_time_since_epoch
            ), (node, up)
    return {n: outputs(store, e.id) for n, e in executions.items()}


def _assert_cached_run(
    root: Path, run_id: str, first_outputs: dict[str, dict[str, list[int]]]
) -> None:
    store = open_store(root)
    assert states(store, "hello", run_id) == {n: [CACHED] for n in HELLO_NODES}
    executions = {n: ex[0] for n, ex in run_executions(store, "hello", run_id).items()}
    # A cached node links the first run's artifacts: nothing is produced twice.
    assert {n: outputs(store, e.id) for n, e in executions.items()} == first_outputs


def test_hello_through_the_cli_on_the_direct_runner(tmp_path: Path) -> None:
    root = tmp_path / "hello"
    proc = headrace("run", str(HELLO), "--orchestrator", "beam", cwd=tmp_path, HELLO_ROOT=str(root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 nodes on beam" in proc.stdout
    for node in HELLO_NODES:
        # Live progress: each node's start, then its outcome.
        assert re.search(rf"\] {node} +running .*\n(.*\n)*.*\] {node} +done ", proc.stdout), (
            proc.stdout
        )
    run_id = re.search(r"^run (\S+): 5 complete in", proc.stdout, re.M)
    assert run_id is not None, proc.stdout
    first_outputs = _assert_first_run(root, run_id.group(1))
    assert sorted(p.name for p in (root / "serving").iterdir()) == ["1"]

    second = headrace(
        "run", str(HELLO), "--orchestrator", "beam", "--json", cwd=tmp_path, HELLO_ROOT=str(root)
    )
    assert second.returncode == 0, second.stderr
    result = run_json(second)
    assert result["succeeded"] is True
    assert result["not_run"] == {}
    assert {n: r["status"] for n, r in result["nodes"].items()} == dict.fromkeys(
        HELLO_NODES, "cached"
    )
    assert result["nodes"]["Train"]["outputs"] == first_outputs["Train"]
    _assert_cached_run(root, result["run_id"], first_outputs)
    assert sorted(p.name for p in (root / "serving").iterdir()) == ["1"]  # not pushed again


@pytest.mark.parametrize("isolation", ["subprocess", "in-process"])
def test_hello_on_a_portable_runner_with_an_embedded_job_server(
    tmp_path: Path,
    hello_ir: Callable[[Path], dict[str, Any]],
    events: Events,
    isolation: str,
) -> None:
    root = tmp_path / "hello"
    document = hello_ir(root)
    runner = BeamDagRunner(PORTABLE, on_event=events, isolation=isolation)
    assert runner.beam_runner == "PortableRunner"
    first = runner.run(document)
    assert first.succeeded, {n: r.error for n, r in first.results.items()}
    assert {n: r.status for n, r in first.results.items()} == dict.fromkeys(HELLO_NODES, "complete")
    for node in HELLO_NODES:
        assert events.of(node) == ["queued", "running", "complete"], events.events
    first_outputs = _assert_first_run(root, first.run_id)
    assert not (root / ".headrace" / "runs" / first.run_id).exists()  # the reports are gone
    assert {k: [a.id for a in v] for k, v in first.results["Train"].outputs.items()} == (
        first_outputs["Train"]
    )

    events.events.clear()
    second = runner.run(document)
    assert second.succeeded
    assert second.run_id != first.run_id
    assert {n: r.status for n, r in second.results.items()} == dict.fromkeys(HELLO_NODES, "cached")
    # Cache hits execute nothing; the subprocess still starts (and reports) before it knows.
    expected = (
        ["queued", "running", "cached"] if isolation == "subprocess" else ["queued", "cached"]
    )
    for node in HELLO_NODES:
        assert events.of(node) == expected, events.events
    _assert_cached_run(root, second.run_id, first_outputs)


def test_a_rerun_under_the_same_run_id_executes_nothing_twice(
    tmp_path: Path, hello_ir: Callable[[Path], dict[str, Any]]
) -> None:
    """What a Beam runner that retries a step relies on: the launcher is idempotent per run."""
    root = tmp_path / "hello"
    document = hello_ir(root)
    runner = BeamDagRunner(isolation="in-process")
    first = runner.run(document, run_id="retried")
    assert first.succeeded
    again = runner.run(document, run_id="retried")
    assert again.succeeded
    assert {n: (r.status, r.message) for n, r in again.results.items()} == dict.fromkeys(
        HELLO_NODES, ("complete", "already finished in this run")
    )
    store = open_store(root)
    assert states(store, "hello", "retried") == {n: [COMPLETE] for n in HELLO_NODES}
