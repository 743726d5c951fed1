"""Importer: registers an external file or folder as an artifact."""

from __future__ import annotations

from pathlib import Path

from hrexec_util import (
    COMPLETE,
    FAILED,
    INTERNAL_OUTPUT,
    OUTPUT,
    all_artifacts,
    as_json,
    by_node,
    events_of,
    headrace,
    open_store,
    run_executions,
    status,
)

from headrace_core import Importer, Pipeline, Schema
from headrace_core.orchestration.local import LocalDagRunner, RunResult


def _import(root: Path, source: Path, reimport: bool, **props: str) -> RunResult:
    importer = Importer(
        source_uri=str(source), artifact_type=Schema, reimport=reimport, custom_properties=props
    )
    result = LocalDagRunner(max_parallel=1).run(Pipeline("importing", str(root), [importer]))
    assert result.succeeded, result.results["Importer"].error
    return result


def _imported(result: RunResult) -> int:
    [artifact] = result.results["Importer"].outputs["result"]
    assert artifact.id is not None
    return artifact.id


def test_importer_reuses_identical_artifacts_unless_reimport(tmp_path: Path) -> None:
    root = tmp_path / "root"
    source = tmp_path / "schema"
    source.mkdir()
    (source / "schema.pbtxt").write_text("feature { name: 'x' }\n")

    first = _import(root, source, reimport=False)
    second = _import(root, source, reimport=False)
    assert _imported(second) == _imported(first)
    store = open_store(root)
    [artifact] = all_artifacts(store)
    assert artifact.uri == str(source)
    assert artifact.custom_properties["fingerprint"].string_value
    executions = [
        by_node(run_executions(store, "importing", r.run_id))["Importer"] for r in (first, second)
    ]
    assert all(e.last_known_state == COMPLETE for e in executions)
    assert events_of(store, executions[0].id, OUTPUT) == {"result": [artifact.id]}
    # The reuse links the existing artifact; OUTPUT still names only the first import.
    assert events_of(store, executions[1].id, OUTPUT) == {}
    assert events_of(store, executions[1].id, INTERNAL_OUTPUT) == {"result": [artifact.id]}

    # Different custom properties: a different artifact.
    tagged = _import(root, source, reimport=False, origin="upstream")
    assert _imported(tagged) != _imported(first)
    assert _imported(_import(root, source, reimport=False, origin="upstream")) == _imported(tagged)
    # ... and the newer tagged artifact is not what an untagged import reuses.
    assert _imported(_import(root, source, reimport=False)) == _imported(first)

    # Same URI, new content: a new artifact.
    (source / "schema.pbtxt").write_text("feature { name: 'y' }\n")
    changed = _import(root, source, reimport=False)
    assert _imported(changed) not in (_imported(first), _imported(tagged))
    assert _imported(_import(root, source, reimport=False)) == _imported(changed)

    # reimport=True: always a new artifact.
    forced = [_imported(_import(root, source, reimport=True)) for _ in range(2)]
    assert len(set(forced)) == 2
    assert _imported(changed) not in forced
    assert len(all_artifacts(store)) == 5
    assert {a.uri for a in all_artifacts(store)} == {str(source)}


def test_importer_of_a_missing_source_fails_clearly(tmp_path: Path) -> None:
    root = tmp_path / "root"
    missing = tmp_path / "nowhere" / "schema"
    importer = Importer(source_uri=str(missing), artifact_type=Schema)
    result = LocalDagRunner(max_parallel=1).run(Pipeline("importing", str(root), [importer]))
    assert result.failed_nodes == ["Importer"]
    assert result.results["Importer"].message == f"Importer 'Importer': {missing} does not exist"

    store = open_store(root)
    [execution] = run_executions(store, "importing", result.run_id)
    assert execution.last_known_state == FAILED
    assert status(execution) == "failed"
    assert str(missing) in execution.custom_properties["error"].string_value
    assert all_artifacts(store) == []
    shown = as_json(headrace("runs", "show", result.run_id, "--pipeline-root", str(root), "--json"))
    assert shown["nodes"][0]["error"] == f"Importer 'Importer': {missing} does not exist"
