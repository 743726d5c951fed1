"""Two ``headrace run`` processes on one SQLite store at the same time."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hrexec_components import RENDEZVOUS_ENV
from hrexec_util import (
    CACHED,
    COMPLETE,
    FIXTURES,
    all_artifacts,
    assert_consistent,
    by_node,
    cli_args,
    cli_env,
    open_store,
    outputs_of,
    run_executions,
)

PIPELINE = str(FIXTURES / "pipe_concurrent.py")
NODES = {
    "Rendezvous",
    "MakeExamples",
    "CountRows",
    "SumColumn",
    "AddOneCount",
    "AddOneSum",
    "Train",
    "ModelSize",
    "Emit",
}


def test_two_runners_on_one_store_both_succeed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    # Both runs execute Rendezvous, which returns only once both processes have reached it:
    # everything after it runs while the other runner writes to the same store.
    procs = [
        subprocess.Popen(
            cli_args("run", PIPELINE, "--pipeline-root", str(root), "--json"),
            env=cli_env(**{RENDEZVOUS_ENV: str(tmp_path / "rendezvous")}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, f"{out}\n{err}"
    results = [json.loads(out) for out, _ in outputs]
    assert results[0]["run_id"] != results[1]["run_id"]
    assert [r["nodes"]["Rendezvous"]["status"] for r in results] == ["complete", "complete"]

    store = open_store(root)
    assert_consistent(store)
    for result in results:
        assert result["succeeded"]
        assert set(result["nodes"]) == NODES
        assert {v["status"] for v in result["nodes"].values()} <= {"complete", "cached"}
        executions = by_node(run_executions(store, "concurrent", result["run_id"]))
        assert set(executions) == NODES
        for node_id, e in executions.items():
            assert e.last_known_state in (COMPLETE, CACHED), (node_id, e)
            assert result["nodes"][node_id]["status"] == e.custom_properties["status"].string_value
            assert outputs_of(store, e), node_id

    # One output per node, made once or (when both runners missed the cache) twice.
    assert len(NODES) <= len(all_artifacts(store)) <= 2 * len(NODES)
