"""The hello example end to end through the real ``headrace`` command and the SQLite store."""

from __future__ import annotations

from pathlib import Path

from hrexec_util import (
    CACHED,
    COMPLETE,
    HELLO,
    all_artifacts,
    as_json,
    by_node,
    headrace,
    ok,
    open_store,
    outputs_of,
    run_executions,
    status,
)

NODES = ["MakeNumbers", "Describe", "Train", "Evaluate", "Push"]


def test_hello_twice_lineage_diff_cache_why_and_dry_run(tmp_path: Path) -> None:
    root = tmp_path / "hello"
    env = {"HELLO_ROOT": str(root)}

    first = as_json(headrace("run", str(HELLO), "--json", cwd=tmp_path, **env))
    assert first["succeeded"]
    assert {k: v["status"] for k, v in first["nodes"].items()} == dict.fromkeys(NODES, "complete")

    store = open_store(root)
    artifacts_after_first = [(a.id, a.uri) for a in all_artifacts(store)]
    executions_first = by_node(run_executions(store, "hello", first["run_id"]))
    assert {n: e.last_known_state for n, e in executions_first.items()} == dict.fromkeys(
        NODES, COMPLETE
    )

    # Unchanged: the plan predicts every node cached.
    plan = as_json(headrace("run", str(HELLO), "--dry-run", "--json", cwd=tmp_path, **env))
    assert {p["node_id"]: p["status"] for p in plan} == dict.fromkeys(NODES, "cached")

    second = as_json(headrace("run", str(HELLO), "--json", cwd=tmp_path, **env))
    assert second["succeeded"]
    assert second["run_id"] != first["run_id"]
    executions_second = run_executions(store, "hello", second["run_id"])
    assert len(executions_second) == len(NODES)
    for e in executions_second:
        assert e.last_known_state == CACHED, e
        assert status(e) == "cached"
        node = executions_first[e.custom_properties["node_id"].string_value]
        assert e.custom_properties["cached_from"].int_value == node.id
        assert outputs_of(store, e) == outputs_of(store, node)
    # No executor ran: not one new artifact.
    assert [(a.id, a.uri) for a in all_artifacts(store)] == artifacts_after_first

    # Lineage: from the pushed model back to MakeNumbers' examples.
    [pushed_id] = outputs_of(store, executions_first["Push"])["pushed_model"]
    [examples_id] = outputs_of(store, executions_first["MakeNumbers"])["examples"]
    [model_id] = outputs_of(store, executions_first["Train"])["model"]
    graph = as_json(headrace("lineage", str(pushed_id), "--pipeline-root", str(root), "--json"))
    assert graph["artifact"]["type"] == "PushedModel"
    steps = {s["node_id"]: s for s in graph["steps"]}
    assert list(steps) == ["Push", "Train", "MakeNumbers"]
    assert steps["Push"]["inputs"] == [model_id]
    assert steps["Train"]["inputs"] == [examples_id]
    assert steps["MakeNumbers"]["inputs"] == []
    assert graph["artifacts"][str(examples_id)]["type"] == "Examples"
    assert all(s["run_id"] == first["run_id"] for s in graph["steps"])

    # Change Train's epochs: the plan and `cache why` say what changed before anything runs.
    env["HELLO_EPOCHS"] = "300"
    plan = as_json(headrace("run", str(HELLO), "--dry-run", "--json", cwd=tmp_path, **env))
    assert {p["node_id"]: p["status"] for p in plan} == {
        "MakeNumbers": "cached",
        "Describe": "cached",
        "Train": "run",
        "Evaluate": "run",
        "Push": "run",
    }
    why = as_json(headrace("cache", "why", str(HELLO), "Train", "--json", cwd=tmp_path, **env))
    assert why["prediction"] == "run"
    assert why["changes"] == ["parameter 'epochs': 200 -> 300"]
    text = ok(headrace("cache", "why", str(HELLO), "Train", cwd=tmp_path, **env)).stdout
    assert "parameter 'epochs': 200 -> 300" in text
    why = as_json(headrace("cache", "why", str(HELLO), "Describe", "--json", cwd=tmp_path, **env))
    assert why["prediction"] == "cached"
    assert why["changes"] == []

    third = as_json(headrace("run", str(HELLO), "--json", cwd=tmp_path, **env))
    assert {k: v["status"] for k, v in third["nodes"].items()} == {
        "MakeNumbers": "cached",
        "Describe": "cached",
        "Train": "complete",
        "Evaluate": "complete",
        "Push": "complete",
    }
    diff = as_json(
        headrace(
            "diff",
            second["run_id"],
            third["run_id"],
            "--pipeline-root",
            str(root),
            "--json",
        )
    )
    rows = {r["node_id"]: r for r in diff["nodes"]}
    assert sorted(n for n, r in rows.items() if r["reran"]) == ["Evaluate", "Push", "Train"]
    assert rows["Train"]["reasons"] == ["parameter 'epochs': 200 -> 300"]
    assert any("input 'model'" in r for r in rows["Evaluate"]["reasons"])
    assert rows["Describe"]["reasons"] == []
    assert rows["Describe"]["changed_outputs"] == {}
    assert set(rows["Train"]["changed_outputs"]) == {"model", "output"}
