"""Closing a run from what the store holds (``close_run``, ``launch --finish-run``): what the
last task of a compiled Airflow DAG or KFP pipeline does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hrexec_components import AddOne, CountRows, Explode, MakeExamples
from hrexec_util import cli_env, open_store

from headrace_core import Pipeline, ir
from headrace_core.metadata import RUN_CONTEXT, custom, run_context_name
from headrace_core.runtime import (
    Status,
    close_run,
    launch_node,
    new_run_id,
    open_run,
    run_succeeded,
)
from headrace_core.testing import store_url


def _document(root: Path, fail_file: Path) -> dict[str, Any]:
    make = MakeExamples(rows=4)
    count = CountRows(examples=make.outputs["examples"])
    plus = AddOne(number=count.outputs["output"])
    explode = Explode(examples=make.outputs["examples"], fail_if_exists=str(fail_file))
    return ir.compile(Pipeline("closing", str(root), [make, count, plus, explode]))


def _run_context(root: Path, run_id: str) -> Any:
    ctx = open_store(root).get_context(RUN_CONTEXT, run_context_name("closing", run_id))
    assert ctx is not None
    return ctx


def _launch(document: dict[str, Any], url: str, run_id: str, *node_ids: str) -> list[str]:
    """Launch ``node_ids`` in one session, as one orchestrator task's process does."""
    session = open_run(document, run_id=run_id, metadata_url=url, orchestrator="airflow")
    return [str(launch_node(session, node_id).status) for node_id in node_ids]


def _finish_run(root: Path, document: dict[str, Any], run_id: str) -> int:
    """``python -m headrace_core.launch --finish-run`` in a process of its own."""
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "headrace_core.launch", "--ir", "-", "--finish-run"),
            *("--run-id", run_id, "--metadata", store_url(root), "--orchestrator", "airflow"),
        ],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        env=cli_env(),
        check=False,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode


def test_a_partly_run_pipeline_closes_failed_then_succeeded_once_every_node_finished(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    fail_file = tmp_path / "fail"  # absent: Explode succeeds
    document = _document(root, fail_file)
    url = store_url(root)
    run_id = new_run_id()
    assert _launch(document, url, run_id, "MakeExamples", "CountRows") == [Status.COMPLETE] * 2

    # Two nodes never launched: the run failed, in a session opened afresh as the DAG's last
    # task opens it, and through the entry point itself.
    assert not run_succeeded(open_run(document, run_id=run_id, metadata_url=url))
    assert _finish_run(root, document, run_id) == 1
    ctx = _run_context(root, run_id)
    assert custom(ctx, "status") == "failed"
    assert custom(ctx, "finished_at")

    # A session opened before the rest ran decides from the store, not from what it saw
    # when it opened, and closes the run succeeded.
    closer = open_run(document, run_id=run_id, metadata_url=url)
    assert _launch(document, url, run_id, "AddOne", "Explode") == [Status.COMPLETE] * 2
    assert close_run(closer) is True
    ctx = _run_context(root, run_id)
    assert custom(ctx, "status") == "succeeded"
    assert _finish_run(root, document, run_id) == 0
    # Closing is not a node: the run holds the four nodes' executions and nothing else.
    store = open_store(root)
    assert len(store.executions_in_context(_run_context(root, run_id).id)) == 4


def test_a_failed_node_closes_the_run_failed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    fail_file = tmp_path / "fail"
    fail_file.touch()
    document = _document(root, fail_file)
    url = store_url(root)
    run_id = new_run_id()
    nodes = ("MakeExamples", "CountRows", "AddOne", "Explode")
    assert _launch(document, url, run_id, *nodes)[-1] == Status.FAILED
    assert _finish_run(root, document, run_id) == 1
    assert custom(_run_context(root, run_id), "status") == "failed"


def test_a_run_closed_before_any_node_ran_is_failed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    document = _document(root, tmp_path / "fail")
    assert _finish_run(root, document, "never-ran") == 1
    ctx = _run_context(root, "never-ran")
    assert custom(ctx, "status") == "failed"
    assert custom(ctx, "orchestrator") == "airflow"
