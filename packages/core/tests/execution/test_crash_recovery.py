"""A runner killed with SIGKILL in the middle of an executor leaves a consistent store, and the
next run cleans up after it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from hrexec_util import (
    COMPLETE,
    FAILED,
    FIXTURES,
    RUNNING,
    all_artifacts,
    all_executions,
    as_json,
    assert_consistent,
    headrace,
    killed_in_sleepy,
    node_executions,
    open_store,
    outputs_of,
    staging_dirs,
    status,
)

from headrace_core.metadata import MetadataStore

PIPELINE = str(FIXTURES / "pipe_crash.py")


@pytest.mark.parametrize("recovery", ["next run", "resume"])
def test_sigkill_mid_executor_is_recovered_by_the_next_run(tmp_path: Path, recovery: str) -> None:
    root = tmp_path / "root"
    proc = killed_in_sleepy(tmp_path, root)
    assert proc.returncode == -signal.SIGKILL

    store = open_store(root)
    assert_consistent(store)
    [orphan] = node_executions(store, "crash", "Sleepy")
    assert orphan.last_known_state == RUNNING
    assert status(orphan) == "running"
    assert orphan.custom_properties["pid"].int_value == proc.pid
    staged = staging_dirs(root)
    assert staged == [os.path.join("Sleepy", "model", f"{orphan.id}.staging")]
    assert (root / staged[0] / "partial.json").exists()
    # Nothing of the interrupted node was published.
    assert not [a for a in all_artifacts(store) if "Sleepy" in a.uri]
    assert node_executions(store, "crash", "ModelSize") == []

    killed_run = orphan.custom_properties["run_id"].string_value
    args = ["run", PIPELINE, "--pipeline-root", str(root), "--json"]
    if recovery == "resume":
        args += ["--resume", killed_run]
    result = as_json(headrace(*args))
    assert result["succeeded"]
    assert {k: v["status"] for k, v in result["nodes"].items()} == {
        # A resumed run keeps what finished before the kill; a new run finds it in the cache.
        "MakeExamples": "complete" if recovery == "resume" else "cached",
        "Sleepy": "complete",
        "ModelSize": "complete",
    }
    assert (result["run_id"] == killed_run) is (recovery == "resume")

    store = open_store(root)
    abandoned, rerun = node_executions(store, "crash", "Sleepy")
    assert abandoned.id == orphan.id
    assert abandoned.last_known_state == FAILED
    assert status(abandoned) == "abandoned"
    assert f"pid {proc.pid}" in abandoned.custom_properties["error"].string_value
    assert outputs_of(store, abandoned) == {}
    assert rerun.last_known_state == COMPLETE
    assert rerun.custom_properties["run_id"].string_value == result["run_id"]
    [model_id] = outputs_of(store, rerun)["model"]
    [model] = store.artifacts([model_id])
    assert sorted(os.listdir(model.uri)) == ["model.json", "partial.json"]
    assert staging_dirs(root) == []
    assert not (root / ".tmp" / str(orphan.id)).exists()
    assert_consistent(store)


def test_a_kill_between_rename_and_commit_leaves_nothing_at_final_paths(tmp_path: Path) -> None:
    """The staging folder renamed to its final path, then the runner killed before the
    COMPLETE commit: the next run recognises the folder as unpublished and removes it."""
    root = tmp_path / "root"
    killed_in_sleepy(tmp_path, root)
    store = open_store(root)
    [orphan] = node_executions(store, "crash", "Sleepy")
    # Where the kill would have left it a moment later: renamed, never published.
    staged = root / "Sleepy" / "model" / f"{orphan.id}.staging"
    final = root / "Sleepy" / "model" / str(orphan.id)
    staged.rename(final)

    result = as_json(headrace("run", PIPELINE, "--pipeline-root", str(root), "--json"))
    assert result["nodes"]["Sleepy"]["status"] == "complete"
    assert not final.exists()
    store = open_store(root)
    abandoned, _ = node_executions(store, "crash", "Sleepy")
    assert status(abandoned) == "abandoned"
    assert_consistent(store)


@pytest.mark.parametrize("blocked", [".headrace", ".headrace/running"])
def test_a_root_that_cannot_be_written_fails_the_node_with_nothing_running(
    tmp_path: Path, blocked: str
) -> None:
    """The store elsewhere, the pipeline root unwritable (here: a file where a folder must
    go, which fails as a read-only or full disk does, even for root): a clear error naming
    the path, and no execution left RUNNING."""
    root = tmp_path / "root"
    (root / blocked).parent.mkdir(parents=True)
    (root / blocked).write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'metadata.sqlite'}"
    proc = headrace("run", PIPELINE, "--pipeline-root", str(root), "--metadata", url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(root / blocked) in proc.stderr
    store = MetadataStore(url)
    assert [e for e in all_executions(store) if e.last_known_state == RUNNING] == []
