"""``headrace gc``: old runs' artifacts DELETED and their files gone, never what the pipeline
still needs (kept runs' inputs and outputs, each node's latest outputs, the latest blessed and
every pushed model); abandoned folders removed; interrupted or raced gcs lose nothing.

On SQLite, and on MariaDB under ``--metadata-backend=mariadb``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hrexec_util import (
    HELLO,
    LIVE,
    RUNNING,
    all_artifacts,
    all_executions,
    as_json,
    headrace,
    killed_in_sleepy,
    node_executions,
    ok,
    open_store,
    outputs_of,
    run_executions,
    status,
)

from headrace_core.gc import apply_gc, plan_gc
from headrace_core.testing import assert_store_consistent, store_url

DELETED = 4


def _run(root: Path, *extra: str, **env: str) -> dict[str, Any]:
    result = as_json(
        headrace("run", str(HELLO), "--pipeline-root", str(root), "--json", *extra, **env)
    )
    assert result["succeeded"], result
    return result


def _gc(root: Path, *extra: str) -> dict[str, Any]:
    return as_json(headrace("gc", "--pipeline-root", str(root), "--json", *extra))


def _outputs(store: Any, pipeline: str, run_id: str) -> dict[str, dict[str, list[Any]]]:
    """node id -> output key -> the artifacts its execution in ``run_id`` made or reused."""
    artifacts = {a.id: a for a in all_artifacts(store)}
    found: dict[str, dict[str, list[Any]]] = {}
    for e in run_executions(store, pipeline, run_id):
        node = found.setdefault(str(e.custom_properties["node_id"].string_value), {})
        for key, ids in outputs_of(store, e).items():
            node.setdefault(key, []).extend(artifacts[i] for i in ids)
    return found


def _each(outputs: dict[str, dict[str, list[Any]]]) -> list[tuple[str, Any]]:
    return [(node, a) for node, keys in outputs.items() for group in keys.values() for a in group]


def _alive(artifact: Any) -> bool:
    return artifact.state == LIVE and os.path.exists(artifact.uri)


def _gone(artifact: Any) -> bool:
    return artifact.state == DELETED and not os.path.exists(artifact.uri)


def test_old_runs_go_and_what_the_pipeline_needs_stays(tmp_path: Path) -> None:
    root = tmp_path / "root"
    runs = [_run(root, HELLO_COUNT=str(c))["run_id"] for c in (10, 20, 30, 20, 40)]
    before = {a.id: a for a in all_artifacts(open_store(root))}
    dry = _gc(root, "--keep-last", "2", "--dry-run")
    # The last two runs stay; the 4th (count 20) reused the 2nd's outputs, which stay too.
    assert sorted(dry["plan"]["kept_runs"]) == sorted(runs[3:])
    assert sorted(dry["plan"]["collected_runs"]) == sorted(runs[:3])
    assert "result" not in dry
    store = open_store(root)
    assert {a.id: (a.state, a.uri) for a in all_artifacts(store)} == {
        a.id: (a.state, a.uri) for a in before.values()
    }, "a dry run changed the store"
    assert all(os.path.exists(a.uri) for a in before.values()), "a dry run removed files"

    done = _gc(root, "--keep-last", "2")
    assert done["result"]["errors"] == []
    assert done["result"]["freed"] == done["plan"]["bytes"] > 0
    store = open_store(root)
    assert_store_consistent(store)
    for run_id in (runs[0], runs[2]):
        for node, a in _each(_outputs(store, "hello", run_id)):
            # Every pushed model stays, with the model it pushed (and Train's other outputs).
            if node in ("Push", "Train"):
                assert _alive(a), f"{node} artifact {a.id} of run {run_id} went"
            else:
                assert _gone(a), f"{node} artifact {a.id} of run {run_id} stayed"
    for run_id in runs[1:2] + runs[3:]:
        for node, a in _each(_outputs(store, "hello", run_id)):
            assert _alive(a), f"{node} artifact {a.id} of kept run {run_id}"
    # The kept runs' configurations are still fully cached; a collected one re-executes,
    # finding its old outputs DELETED rather than reusing files that are gone.
    again = _run(root, HELLO_COUNT="20")
    assert {n["status"] for n in again["nodes"].values()} == {"cached"}, again
    redo = _run(root, HELLO_COUNT="10")
    assert redo["nodes"]["MakeNumbers"]["status"] == "complete", redo
    assert_store_consistent(open_store(root))
    second = _gc(root, "--keep-last", "2", "--dry-run")
    assert sorted(second["plan"]["kept_runs"]) == sorted([again["run_id"], redo["run_id"]])


def test_each_nodes_latest_outputs_and_the_latest_blessed_model_stay(tmp_path: Path) -> None:
    root = tmp_path / "root"
    # Blessed but never pushed (the run stops at Evaluate) ...
    blessed_run = _run(root, "--to-nodes", "Evaluate", HELLO_COUNT="10")["run_id"]
    # ... then models that are not blessed, in runs that never reach Push.
    for count in (20, 30):
        _run(root, HELLO_COUNT=str(count), HELLO_MAX_ERROR="0")
    # ... and runs of the first node alone: Describe's latest outputs are the first run's.
    for count in (40, 50):
        _run(root, "--to-nodes", "MakeNumbers", HELLO_COUNT=str(count))
    done = _gc(root, "--keep-last", "1")
    assert blessed_run in done["plan"]["collected_runs"]
    store = open_store(root)
    outputs = _outputs(store, "hello", blessed_run)
    [model] = outputs["Train"]["model"]
    [blessing] = outputs["Evaluate"]["blessing"]
    assert blessing.custom_properties["blessed"].int_value == 1
    assert _alive(model) and _alive(blessing), "the latest blessed model went"
    [examples] = outputs["MakeNumbers"]["examples"]
    assert _gone(examples)
    describe = node_executions(store, "hello", "Describe")
    latest = [store.artifacts(ids) for ids in outputs_of(store, describe[-1]).values()]
    assert all(_alive(a) for group in latest for a in group), "Describe's latest outputs went"
    assert done["plan"]["kept"]["latest blessed model"] >= 1


def test_abandoned_folders_go_and_a_running_executions_stay(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _run(root, HELLO_COUNT="10")
    store = open_store(root)
    by_node = {str(e.custom_properties["node_id"].string_value): e for e in all_executions(store)}
    train, describe = by_node["Train"], by_node["Describe"]
    leftovers = [
        root / "Train" / "model" / f"{train.id}.staging",  # a launch killed while staging
        root / ".tmp" / str(train.id),  # its scratch space
        root / "Describe" / "rows" / str(describe.id + 1000),  # not an execution of ours
    ]
    unpublished = root / "Describe" / "extra" / str(describe.id)  # renamed, never published
    for folder in [*leftovers, unpublished]:
        folder.mkdir(parents=True)
        (folder / "part").write_text("x" * 100)
    # A run killed while its executor works: RUNNING, its staging folder is not abandoned
    # (the next run of that node reaps it), whatever gc thinks of the owner.
    killed_in_sleepy(tmp_path, root)
    [sleepy] = node_executions(open_store(root), "crash", "Sleepy")
    assert sleepy.last_known_state == RUNNING
    staging = root / "Sleepy" / "model" / f"{sleepy.id}.staging"
    assert staging.exists()

    done = _gc(root)
    removed = set(done["result"]["removed"])
    assert str(leftovers[0]) in removed and str(leftovers[1]) in removed
    assert str(unpublished) in removed
    assert not leftovers[0].exists() and not leftovers[1].exists() and not unpublished.exists()
    assert leftovers[2].exists(), "gc removed a folder of an execution it does not know"
    assert staging.exists(), "gc removed a RUNNING execution's staging folder"
    assert str(staging) in done["plan"]["running"]
    reasons = {r["path"]: r["reason"] for r in done["plan"]["removals"]}
    assert reasons[str(unpublished)] == "unpublished"
    assert reasons[str(leftovers[0])] == "staging"
    assert reasons[str(leftovers[1])] == "scratch"
    # The published outputs of the only run are untouched.
    assert all(_alive(a) for a in all_artifacts(open_store(root)) if "Sleepy" not in a.uri)


def test_an_interrupted_gc_is_finished_by_the_next(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for count in (10, 20, 30):
        _run(root, HELLO_COUNT=str(count))
    store = open_store(root)
    plan = plan_gc(store, str(root), keep_last=1)
    assert plan.artifacts
    # What a gc killed after its store write leaves: DELETED artifacts whose files remain.
    for a in plan.artifacts:
        a.state = DELETED
    store.call("put_artifacts", plan.artifacts)
    marked = [a.uri for a in plan.artifacts]
    assert all(os.path.exists(uri) for uri in marked)
    done = _gc(root, "--keep-last", "1")
    reasons = {r["path"]: r["reason"] for r in done["plan"]["removals"]}
    assert {reasons.get(uri) for uri in marked} == {"deleted"}
    assert not [uri for uri in marked if os.path.exists(uri)]
    assert_store_consistent(open_store(root))


def test_a_run_that_takes_an_artifact_during_gc_keeps_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for count in (10, 20, 30):
        _run(root, HELLO_COUNT=str(count))
    store = open_store(root)
    plan = plan_gc(store, str(root), keep_last=1)
    planned = {a.id for a in plan.artifacts}
    # A run starts after the plan and reuses the first run's outputs from the cache.
    again = _run(root, HELLO_COUNT="10")
    assert {n["status"] for n in again["nodes"].values()} == {"cached"}
    result = apply_gc(store, plan)
    assert result.restored, "the run's cache hits were not noticed"
    assert set(result.restored) <= planned
    store = open_store(root)
    assert_store_consistent(store)
    for node, a in _each(_outputs(store, "hello", again["run_id"])):
        assert _alive(a), f"{node}: gc took artifact {a.id}, which a new run reuses"
    ok(headrace("run", str(HELLO), "--pipeline-root", str(root), HELLO_COUNT="10"))


def test_runs_of_another_root_on_a_shared_store_are_not_touched(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a_runs = [_run(a, HELLO_COUNT=str(count))["run_id"] for count in (10, 20, 30)]
    shared = ("--metadata", store_url(a))
    for count in (10, 20, 30):
        _run(b, *shared, HELLO_COUNT=str(count))
    done = as_json(headrace("gc", "--pipeline-root", str(a), "--keep-last", "1", "--json", *shared))
    assert done["plan"]["kept_runs"] == a_runs[2:]
    assert sorted(done["plan"]["collected_runs"]) == sorted(a_runs[:2])
    assert all(p.startswith(str(a) + os.sep) for p in done["result"]["removed"])
    store = open_store(a)
    assert all(_alive(x) for x in all_artifacts(store) if x.uri.startswith(str(b) + os.sep))
    assert_store_consistent(store)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--keep-last", "0"], "--keep-last must be at least 1"),
        (["--older-than", "-1"], "--older-than must be a number of days"),
    ],
)
def test_bad_arguments_say_what_is_wrong(tmp_path: Path, args: list[str], message: str) -> None:
    root = tmp_path / "root"
    _run(root, HELLO_COUNT="10")
    proc = headrace("gc", "--pipeline-root", str(root), *args)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr


@pytest.mark.sqlite_only
def test_a_root_without_a_store_is_an_error_naming_it(tmp_path: Path) -> None:
    proc = headrace("gc", "--pipeline-root", str(tmp_path / "nothing"))
    assert proc.returncode != 0
    assert f"no metadata store at {tmp_path / 'nothing' / 'metadata.sqlite'}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_older_than_keeps_recent_runs_and_prints_before_it_removes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for count in (10, 20, 30):
        _run(root, HELLO_COUNT=str(count))
    recent = _gc(root, "--keep-last", "1", "--older-than", "1")
    assert recent["plan"]["collected_runs"] == [] and recent["plan"]["removals"] == []
    proc = ok(headrace("gc", "--pipeline-root", str(root), "--keep-last", "1", "--older-than", "0"))
    lines = proc.stdout.splitlines()
    would = next(i for i, line in enumerate(lines) if line.startswith("would free"))
    marking = next(i for i, line in enumerate(lines) if line.startswith("marking"))
    assert would < marking, proc.stdout
    assert "runs: 3; keeping 1, collecting 2" in proc.stdout
    assert lines[-1].startswith("deleted ") and "freed" in lines[-1]
    store = open_store(root)
    assert_store_consistent(store)
    assert {status(e) for e in all_executions(store)} <= {"complete", "cached", "skipped"}
