"""The cache: switches that force execution, module files in the key, indexed lookups."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hrexec_components import AddOne, CountRows, MakeExamples, ModuleTrainer
from hrexec_util import all_artifacts, open_store, run_executions

from headrace_core import Pipeline
from headrace_core.cache import diff_parts
from headrace_core.metadata import MetadataStore
from headrace_core.orchestration.local import LocalDagRunner, RunResult


def _statuses(result: RunResult) -> dict[str, str]:
    assert result.succeeded, {n: r.error for n, r in result.results.items()}
    return {n: r.status for n, r in result.results.items()}


def _small(root: Path, enable_cache: bool = True, cache_count: bool | None = None) -> Pipeline:
    make = MakeExamples()
    count = CountRows(examples=make.outputs["examples"])
    if cache_count is not None:
        count.with_cache(cache_count)
    return Pipeline("small", str(root), [make, count], enable_cache=enable_cache)


def test_enable_cache_false_on_the_pipeline_forces_execution(pipeline_root: Path) -> None:
    runner = LocalDagRunner(max_parallel=2)
    assert set(_statuses(runner.run(_small(pipeline_root))).values()) == {"complete"}
    assert set(_statuses(runner.run(_small(pipeline_root))).values()) == {"cached"}
    forced = runner.run(_small(pipeline_root, enable_cache=False))
    assert set(_statuses(forced).values()) == {"complete"}
    store = open_store(pipeline_root)
    assert len(all_artifacts(store)) == 4
    # A node's own with_cache(True) wins over the pipeline's switch.
    mixed = runner.run(_small(pipeline_root, enable_cache=False, cache_count=True))
    assert _statuses(mixed) == {"MakeExamples": "complete", "CountRows": "complete"}
    again = runner.run(_small(pipeline_root, enable_cache=False, cache_count=True))
    assert _statuses(again) == {"MakeExamples": "complete", "CountRows": "complete"}


def test_with_cache_false_on_one_node_forces_only_that_node(pipeline_root: Path) -> None:
    runner = LocalDagRunner(max_parallel=2)
    _statuses(runner.run(_small(pipeline_root)))
    for _ in range(2):
        result = runner.run(_small(pipeline_root, cache_count=False))
        assert _statuses(result) == {"MakeExamples": "cached", "CountRows": "complete"}
    store = open_store(pipeline_root)
    executions = run_executions(store, "small", result.run_id)
    assert [e.custom_properties["status"].string_value for e in executions] == [
        "cached",
        "complete",
    ]
    assert len(all_artifacts(store)) == 4


def test_module_file_content_is_part_of_the_cache_key(tmp_path: Path) -> None:
    root = tmp_path / "root"
    user = tmp_path / "user"
    user.mkdir()
    module = user / "trainer_module.py"
    module.write_text("def train(rows):\n    return {'n': len(rows)}\n")

    def run() -> RunResult:
        make = MakeExamples()
        trainer = ModuleTrainer(examples=make.outputs["examples"], module_file=str(module))
        return LocalDagRunner(max_parallel=2).run(Pipeline("modules", str(root), [make, trainer]))

    def model(result: RunResult) -> Any:
        [artifact] = result.results["ModuleTrainer"].outputs["model"]
        return json.loads((Path(artifact.uri) / "model.json").read_text())

    first = run()
    assert _statuses(first)["ModuleTrainer"] == "complete"
    assert model(first) == {"n": 6}
    unchanged = run()
    assert _statuses(unchanged)["ModuleTrainer"] == "cached"

    module.write_text("def train(rows):\n    return {'n': len(rows), 'v': 2}\n")
    changed = run()
    assert _statuses(changed) == {"MakeExamples": "cached", "ModuleTrainer": "complete"}
    assert model(changed) == {"n": 6, "v": 2}
    store = open_store(root)
    [execution] = [
        e
        for e in run_executions(store, "modules", changed.run_id)
        if e.custom_properties["node_id"].string_value == "ModuleTrainer"
    ]
    parts = json.loads(execution.custom_properties["cache_key_parts"].string_value)
    assert set(parts["module_files"]) == {"trainer_module.py"}
    assert _statuses(run())["ModuleTrainer"] == "cached"

    # Same size, different bytes: still a different key, and the change is explained.
    module.write_text("def train(rows):\n    return {'n': len(rows), 'v': 3}\n")
    same_size = run()
    assert _statuses(same_size)["ModuleTrainer"] == "complete"
    assert model(same_size) == {"n": 6, "v": 3}
    [previous, latest] = [
        json.loads(e.custom_properties["cache_key_parts"].string_value)
        for r in (changed, same_size)
        for e in run_executions(store, "modules", r.run_id)
        if e.custom_properties["node_id"].string_value == "ModuleTrainer"
    ]
    assert diff_parts(previous, latest) == ["module file 'trainer_module.py' changed"]

    # A helper beside the module file is part of the key too.
    (user / "helpers.py").write_text("SCALE = 2\n")
    assert _statuses(run())["ModuleTrainer"] == "complete"
    assert _statuses(run())["ModuleTrainer"] == "cached"


@pytest.fixture
def counted_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts MetadataStore calls by method, and rows (executions, artifacts, events) read."""
    counts: Counter[str] = Counter()
    original = MetadataStore.call

    def call(self: MetadataStore, method: str, *args: Any, **kwargs: Any) -> Any:
        result = original(self, method, *args, **kwargs)
        counts[f"calls:{method}"] += 1
        if method.startswith("get_") and isinstance(result, list):
            kind = (
                "executions"
                if "get_executions" in method
                else method.split("_by_", maxsplit=1)[0][4:]
            )
            counts[f"rows:{kind}"] += len(result)
        return result

    monkeypatch.setattr(MetadataStore, "call", call)
    yield counts


def test_cached_launches_read_the_same_rows_whatever_the_history(
    pipeline_root: Path, counted_calls: Counter[str]
) -> None:
    def pipeline() -> Pipeline:
        make = MakeExamples()
        count = CountRows(examples=make.outputs["examples"])
        plus = AddOne(number=count.outputs["output"])
        return Pipeline("history", str(pipeline_root), [make, count, plus])

    runner = LocalDagRunner(max_parallel=1)
    reads: list[Counter[str]] = []
    for _ in range(30):
        counted_calls.clear()
        result = runner.run(pipeline())
        reads.append(Counter(counted_calls))
    assert set(_statuses(result).values()) == {"cached"}
    store = open_store(pipeline_root)
    assert len(store.call("get_executions")) == 90  # the history is there

    # From the third run on every run is all cached; what it reads must not grow with history.
    assert reads[2]["rows:executions"] > 0
    for i in range(3, 30):
        assert reads[i] == reads[2], f"run {i + 1} read {reads[i]}, run 3 read {reads[2]}"
