"""One suite every orchestrator passes: the same IR, run by the local runner (in-process and
subprocess), Beam, Airflow and Kubeflow Pipelines, leaves the same executions, artifacts (types,
properties, content fingerprints) and lineage edges in ML Metadata; a second run is fully
cached; a failing node is recorded and reported the same way.

An orchestrator added later adds a driver module under ``drivers/`` and its name to ``WAYS``.
Drivers whose orchestrator is not installed skip, saying what to set; ``nox -s conformance``
installs them all, and there ``HEADRACE_CONFORMANCE_REQUIRE_ALL=1`` turns a skip into a failure.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conformance.outcome import Outcome
from conformance.snapshot import run_snapshot, without

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "examples" / "hello" / "pipeline.py"
FAILING = Path(__file__).parent / "pipelines" / "failing.py"
HELLO_NODES = ["Describe", "Evaluate", "MakeNumbers", "Push", "Train"]

WAYS = ["local_in_process", "local_subprocess", "beam", "airflow", "kubeflow"]


def _driver(way: str) -> Any:
    try:
        return importlib.import_module(f"conformance.drivers.{way}")
    except ImportError as e:
        _skip(f"{way}: driver not importable ({e})")


def _skip(reason: str) -> None:
    if os.environ.get("HEADRACE_CONFORMANCE_REQUIRE_ALL") == "1":
        pytest.fail(f"required orchestrator unavailable: {reason}")
    pytest.skip(reason)


def _run(way: str, pipeline_file: Path, root: Path, workdir: Path) -> Outcome:
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _driver(way).run_pipeline(pipeline_file, root, workdir)
    except pytest.skip.Exception as e:
        _skip(str(e))
        raise


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The local in-process runner's two hello runs: what every orchestrator must reproduce."""
    base = tmp_path_factory.mktemp("reference")
    root = base / "root"
    first = _run("local_in_process", HELLO, root, base / "work")
    second = _run("local_in_process", HELLO, root, base / "work")
    assert first.succeeded and second.succeeded, first.log + second.log
    return {
        "first": run_snapshot(root, "hello", first.run_id),
        "second": run_snapshot(root, "hello", second.run_id),
    }


def _diff(expected: Any, actual: Any) -> str:
    a = json.dumps(expected, indent=1, sort_keys=True, default=str).splitlines()
    b = json.dumps(actual, indent=1, sort_keys=True, default=str).splitlines()
    import difflib

    return "\n".join(difflib.unified_diff(a, b, "reference", "this orchestrator", lineterm=""))


@pytest.mark.parametrize("way", WAYS)
def test_same_metadata_as_the_reference_and_cached_on_rerun(
    way: str, reference: dict[str, Any], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    first = _run(way, HELLO, root, tmp_path / "work")
    assert first.succeeded, first.log
    assert first.failed_nodes == []
    snapshot = run_snapshot(root, "hello", first.run_id)
    assert sorted(snapshot["executions"]) == HELLO_NODES
    expected = without(reference["first"], "uri")
    actual = without(snapshot, "uri")
    assert actual == expected, _diff(expected, actual) + "\n" + first.log

    second = _run(way, HELLO, root, tmp_path / "work")
    assert second.succeeded, second.log
    assert second.run_id != first.run_id
    cached = run_snapshot(root, "hello", second.run_id)
    statuses = {n: [e["state"] for e in ex] for n, ex in cached["executions"].items()}
    assert statuses == {node: ["CACHED"] for node in HELLO_NODES}, second.log
    # A cached run links the first run's artifacts; none is produced twice.
    assert {o["artifact"] for o in cached["outputs"].values()} == {
        o["artifact"] for o in snapshot["outputs"].values()
    }
    expected = without(reference["second"], "uri")
    actual = without(cached, "uri")
    assert actual == expected, _diff(expected, actual) + "\n" + second.log


@pytest.mark.parametrize("way", WAYS)
def test_a_failing_node_is_reported_the_same_way(way: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    outcome = _run(way, FAILING, root, tmp_path / "work")
    assert not outcome.succeeded, outcome.log
    assert outcome.failed_nodes == ["Break"], outcome.log
    snapshot = run_snapshot(root, "failing", outcome.run_id)
    states = {n: [e["state"] for e in ex] for n, ex in snapshot["executions"].items()}
    # Consume may be recorded as skipped or not at all, but never executed.
    assert states.pop("Produce") == ["COMPLETE"], outcome.log
    assert states.pop("Break") == ["FAILED"], outcome.log
    assert states.get("Consume", []) in ([], ["CANCELED"]), outcome.log
    (failed,) = snapshot["executions"]["Break"]
    assert failed["status"] == "failed"
    assert "Break.model" not in snapshot["outputs"]
    assert "conformance: this node fails on purpose" in outcome.log
