"""A plan (``--dry-run``) predicts what the run then does, node by node.

Each scenario prepares a store, plans the next run, runs it, and compares every node's
predicted status with its real one. Plans and launches share one decision function; this
table is what keeps them from drifting apart.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hrexec_components import (
    AddOne,
    Bless,
    CountRows,
    Explode,
    MakeExamples,
    ModelSize,
    ModuleTrainer,
    Relabel,
    Train,
)

from headrace_core import Cond, Examples, Importer, LatestArtifactStrategy, Pipeline, Resolver
from headrace_core.orchestration.local import LocalDagRunner
from headrace_core.runtime import RunResult, Status

MODULE = "def train(rows):\n    return {'rows': len(rows)}\n"


def _pipeline(root: Path, **knobs: Any) -> Pipeline:
    """Make -> Relabel -> Train -> Bless; ModelSize needs Train's model and, only through a
    condition, Bless's verdict; Guarded runs when there are at least 5 rows; an Importer
    feeds its own CountRows; ModuleTrainer hashes a module file."""
    make = MakeExamples(rows=knobs.get("rows", 6))
    count = CountRows(examples=make.outputs["examples"])
    relabel = Relabel(examples=make.outputs["examples"])
    train = Train(examples=relabel.outputs["relabeled"], seed=knobs.get("seed", 0))
    bless = Bless(model=train.outputs["model"], bless=knobs.get("bless", 1))
    if not knobs.get("cache_bless", True):
        bless = bless.with_cache(False)
    with Cond(bless.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        size = ModelSize(model=train.outputs["model"])
    with Cond(count.outputs["output"].future()[0].value >= 5):
        guarded = AddOne(number=count.outputs["output"]).with_id("Guarded")
    imported = Importer(source_uri=str(root.parent / "external"), artifact_type=Examples)
    imported = imported.with_id("ImportExamples")
    count_imported = CountRows(examples=imported.outputs["result"]).with_id("CountImported")
    module = ModuleTrainer(
        examples=make.outputs["examples"], module_file=str(root.parent / "module.py")
    )
    # A resolver picks Make's latest examples: a consumer of it re-runs when Make does.
    latest = Resolver(strategy_class=LatestArtifactStrategy, examples=make.outputs["examples"])
    latest = latest.with_id("LatestExamples")
    count_latest = CountRows(examples=latest.outputs["examples"]).with_id("CountLatest")
    nodes = [make, count, relabel, train, bless, size, guarded, imported, count_imported, module]
    nodes += [latest, count_latest]
    if knobs.get("explode"):
        nodes.append(
            Explode(examples=relabel.outputs["relabeled"], fail_if_exists=str(root.parent / "fail"))
        )
        nodes.append(ModelSize(model=nodes[-1].outputs["model"]).with_id("AfterExplode"))
    return Pipeline("plans", str(root), nodes)


def _external(root: Path, rows: int) -> None:
    folder = root.parent / "external" / "Split-train"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rows.json").write_text(str([[i, i] for i in range(rows)]))


def _actual(result: RunResult) -> dict[str, str]:
    statuses = {n: str(r.status) for n, r in result.results.items()}
    statuses.update({n: str(Status.NOT_RUN) for n in result.not_run})
    return statuses


def _predicted(plan: list[Any]) -> dict[str, str]:
    # A plan says "run" where a run says "complete"; every other status is spelled alike.
    return {p.node_id: str(Status.COMPLETE if p.status == Status.RUN else p.status) for p in plan}


Setup = Callable[[Path, LocalDagRunner], dict[str, Any]]


def _first_run(root: Path, runner: LocalDagRunner) -> dict[str, Any]:
    return {}


def _after(**knobs: Any) -> Setup:
    """The store after one run with the defaults; the next run uses ``knobs``."""

    def setup(root: Path, runner: LocalDagRunner) -> dict[str, Any]:
        assert runner.run(_pipeline(root)).succeeded
        return knobs

    return setup


def _after_first(first: dict[str, Any], **knobs: Any) -> Setup:
    def setup(root: Path, runner: LocalDagRunner) -> dict[str, Any]:
        assert runner.run(_pipeline(root, **first)).succeeded
        return knobs or first

    return setup


def _edit_module(root: Path, runner: LocalDagRunner) -> dict[str, Any]:
    assert runner.run(_pipeline(root)).succeeded
    (root.parent / "module.py").write_text(MODULE + "# tuned\n")
    return {}


def _edit_imported_data(root: Path, runner: LocalDagRunner) -> dict[str, Any]:
    assert runner.run(_pipeline(root)).succeeded
    _external(root, 9)
    return {}


def _delete_train_output(root: Path, runner: LocalDagRunner) -> dict[str, Any]:
    result = runner.run(_pipeline(root))
    [model] = result.results["Train"].outputs["model"]
    shutil.rmtree(model.uri)
    return {}


SCENARIOS: dict[str, tuple[Setup, dict[str, Any]]] = {
    "first run": (_first_run, {}),
    "nothing changed": (_after(), {}),
    "parameter change at the root": (_after(rows=7), {}),
    "parameter change in the middle": (_after(seed=3), {}),
    "code change (module file edited)": (_edit_module, {}),
    "input change (imported data edited)": (_edit_imported_data, {}),
    "cached outputs deleted": (_delete_train_output, {}),
    # The producer of a condition re-runs (no cache) and decides as before: the node that
    # depends on it only through the condition is cached, and predicted so.
    "condition true, its producer re-runs": (_after(cache_bless=False), {}),
    "condition false, its producer cached": (_after_first({"bless": 0}), {}),
    "condition false, its producer re-runs": (_after_first({"bless": 0}, bless=0, seed=4), {}),
    "condition on a count, false": (_after_first({"rows": 3}), {}),
    "partial run, to Train": (_after(seed=5), {"to_nodes": ["Train"]}),
    "partial run, from Train": (_after(seed=6), {"from_nodes": ["Train"]}),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_plan_predicts_the_run(tmp_path: Path, name: str) -> None:
    root = tmp_path / "root"
    (tmp_path / "module.py").write_text(MODULE)
    _external(root, 4)
    runner = LocalDagRunner(max_parallel=2)
    setup, selection = SCENARIOS[name]
    knobs = setup(root, runner)
    pipeline = _pipeline(root, **knobs)
    plan = runner.plan(pipeline, **selection)
    result = runner.run(_pipeline(root, **knobs), **selection)
    reasons = {p.node_id: p.reason for p in plan}
    assert _predicted(plan) == _actual(result), reasons


def test_the_plan_predicts_a_resumed_run(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (tmp_path / "module.py").write_text(MODULE)
    _external(root, 4)
    (tmp_path / "fail").write_text("")
    runner = LocalDagRunner(max_parallel=2)
    failed = runner.run(_pipeline(root, explode=True))
    assert failed.failed_nodes == ["Explode"]
    (tmp_path / "fail").unlink()
    plan = runner.plan(_pipeline(root, explode=True), resume=failed.run_id)
    predicted = _predicted(plan)
    assert predicted["Explode"] == "complete" and predicted["AfterExplode"] == "complete"
    resumed = runner.run(_pipeline(root, explode=True), resume=failed.run_id)
    assert predicted == _actual(resumed), {p.node_id: p.reason for p in plan}


@pytest.mark.sqlite_only("compares the bytes of metadata.sqlite")
def test_a_plan_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (tmp_path / "module.py").write_text(MODULE)
    _external(root, 4)
    runner = LocalDagRunner(max_parallel=2)
    runner.plan(_pipeline(root))
    assert not (root / "metadata.sqlite").exists()
    assert runner.run(_pipeline(root)).succeeded
    before = (root / "metadata.sqlite").read_bytes()
    runner.plan(_pipeline(root, seed=9))
    assert (root / "metadata.sqlite").read_bytes() == before
