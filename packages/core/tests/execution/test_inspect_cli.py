"""What a new user met in the inspection commands, on real stores from the hello example:
the lineage tree, diff in both argument orders, list headers, unknown artifact types."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from hrexec_util import (
    HELLO,
    as_json,
    by_node,
    headrace,
    ok,
    open_store,
    outputs_of,
    run_executions,
)

from headrace_core.metadata import custom

# Every test reads the runs of the module's hello_runs: on MariaDB, one database for them all.
pytestmark = pytest.mark.metadata_per_module


def _tree(text: str) -> list[tuple[str, str | None]]:
    """Each line of an indented tree with its parent line: the nearest line above it that is
    indented less. A tree is readable only if that is the line it belongs under."""
    found: list[tuple[str, str | None]] = []
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        found.append((raw.strip(), stack[-1][1] if stack else None))
        stack.append((indent, raw.strip()))
    return found


def _parent(tree: list[tuple[str, str | None]], starts: str) -> str | None:
    [parent] = [p for line, p in tree if line.startswith(starts)]
    return parent


@pytest.fixture(scope="module")
def hello_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three hello runs: all executed; all cached; MakeNumbers' examples deleted first, so it
    re-runs with an unchanged cache key."""
    tmp = tmp_path_factory.mktemp("inspect")
    root = tmp / "hello"
    env = {"HELLO_ROOT": str(root)}
    first = as_json(headrace("run", str(HELLO), "--json", cwd=tmp, **env))
    second = as_json(headrace("run", str(HELLO), "--json", cwd=tmp, **env))
    store = open_store(root)
    executions = by_node(run_executions(store, "hello", first["run_id"]))
    ids = {node: outputs_of(store, e) for node, e in executions.items()}
    [examples] = store.artifacts(ids["MakeNumbers"]["examples"])
    shutil.rmtree(examples.uri)
    third = as_json(headrace("run", str(HELLO), "--json", cwd=tmp, **env))
    return {
        "root": root,
        "runs": [first["run_id"], second["run_id"], third["run_id"]],
        "ids": ids,
        "store": store,
    }


def _cli(hello_runs: dict[str, Any], *args: str) -> str:
    return ok(headrace(*args, "--pipeline-root", str(hello_runs["root"]))).stdout


def test_lineage_downstream_puts_each_step_under_the_artifact_it_came_from(
    hello_runs: dict[str, Any],
) -> None:
    ids = hello_runs["ids"]
    [examples] = ids["MakeNumbers"]["examples"]
    [model] = ids["Train"]["model"]
    tree = _tree(_cli(hello_runs, "lineage", str(examples), "--downstream"))
    root_line = tree[0][0]
    assert root_line.startswith(f"Examples #{examples} ")
    for node in ("Describe", "Train", "Evaluate"):
        assert _parent(tree, f"-> {node} ") == root_line
    # Push used Train's model: it belongs under that model, which belongs under Train.
    model_line = _parent(tree, "-> Push ")
    assert model_line is not None and model_line.startswith(f"Model #{model} ")
    assert _parent(tree, f"Model #{model} ").startswith("-> Train ")  # type: ignore[union-attr]


def test_lineage_upstream_with_branches(hello_runs: dict[str, Any]) -> None:
    ids = hello_runs["ids"]
    [examples] = ids["MakeNumbers"]["examples"]
    [model] = ids["Train"]["model"]
    [blessing] = ids["Evaluate"]["blessing"]
    text = _cli(hello_runs, "lineage", str(blessing))
    tree = _tree(text)
    assert tree[0][0].startswith(f"ModelBlessing #{blessing} ")
    assert _parent(tree, "<- Evaluate ") == tree[0][0]
    # Evaluate read the examples and the model; each was made by its own step.
    assert _parent(tree, "<- MakeNumbers ").startswith(f"Examples #{examples} ")  # type: ignore[union-attr]
    assert _parent(tree, "<- Train ").startswith(f"Model #{model} ")  # type: ignore[union-attr]
    # Every step is shown once; an artifact met again says so rather than hang alone.
    assert text.count("<- MakeNumbers ") == 1
    assert f"Examples #{examples} " in text and "(traced above)" in text


def test_diff_is_the_same_in_either_argument_order(hello_runs: dict[str, Any]) -> None:
    first, second, _ = hello_runs["runs"]
    forward = as_json(
        headrace("diff", first, second, "--json", "--pipeline-root", str(hello_runs["root"]))
    )
    backward = as_json(
        headrace("diff", second, first, "--json", "--pipeline-root", str(hello_runs["root"]))
    )
    assert forward["swapped"] is False and backward["swapped"] is True
    assert (backward["run_a"], backward["run_b"]) == (first, second)
    assert forward["nodes"] == backward["nodes"]
    assert not any(r["reran"] for r in backward["nodes"])  # the second run ran nothing
    text = _cli(hello_runs, "diff", second, first)
    assert "no recorded key" not in text
    assert "re-ran" not in text
    assert f"{first} -> {second}" in text
    assert "newer run first" in text


def test_diff_says_why_a_node_with_an_unchanged_key_ran_again(
    hello_runs: dict[str, Any],
) -> None:
    _, second, third = hello_runs["runs"]
    for order in ((second, third), (third, second)):
        result = as_json(
            headrace("diff", *order, "--json", "--pipeline-root", str(hello_runs["root"]))
        )
        rows = {r["node_id"]: r for r in result["nodes"]}
        assert rows["MakeNumbers"]["reran"]
        [reason] = rows["MakeNumbers"]["reasons"]
        assert "cache key unchanged" in reason
        assert "no longer there" in reason
        text = _cli(hello_runs, "diff", *order)
        assert "no recorded key" not in text
        [line] = [x for x in text.splitlines() if x.strip().startswith("MakeNumbers:")]
        assert "cache key unchanged" in line


def test_list_commands_have_headers(hello_runs: dict[str, Any]) -> None:
    runs = _cli(hello_runs, "runs", "list").splitlines()
    assert runs[0].split() == ["RUN", "PIPELINE", "STATUS", "STARTED", "EXECUTIONS"]
    assert len(runs) == 1 + 3
    artifacts = _cli(hello_runs, "artifacts", "list").splitlines()
    assert artifacts[0].split() == ["ID", "TYPE", "STATE", "PRODUCER", "URI"]
    assert artifacts[1].split()[0].isdigit()
    # --json is unchanged: rows only.
    rows = as_json(headrace("runs", "list", "--json", "--pipeline-root", str(hello_runs["root"])))
    assert [r["run_id"] for r in rows] == hello_runs["runs"][::-1]


def test_artifacts_list_of_an_unknown_type_is_an_error(hello_runs: dict[str, Any]) -> None:
    result = headrace(
        "artifacts", "list", "--type", "Exampels", "--pipeline-root", str(hello_runs["root"])
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "'Exampels'" in line
    assert "Examples" in line and "Model" in line and "PushedModel" in line
    assert result.stdout == ""
    known = _cli(hello_runs, "artifacts", "list", "--type", "PushedModel").splitlines()
    assert len(known) == 1 + 2  # header and the two pushes


def test_hello_records_the_pushed_version(hello_runs: dict[str, Any]) -> None:
    store = hello_runs["store"]
    [pushed] = store.artifacts(hello_runs["ids"]["Push"]["pushed_model"])
    assert custom(pushed, "pushed_version") == "1"
    assert custom(pushed, "pushed_destination").endswith("serving/1")
