"""Doing what a :class:`GcPlan` says, in the order that loses nothing when interrupted.

Artifacts are marked DELETED in one store write per batch before any file goes: a gc killed
between the two leaves files that no LIVE artifact owns, which the next gc removes (as
"deleted"), never a LIVE artifact whose files are gone. A run that started after the plan
and took one of the marked artifacts as an input or a cache hit gets it back LIVE, and its
files stay.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from headrace_core.gc._plan import GcPlan
from headrace_core.metadata import MetadataStore, set_value

__all__ = ["GcResult", "apply_gc"]

_LIVE, _DELETED = 2, 4
_BATCH = 200


@dataclass
class GcResult:
    """What a gc did; ``errors`` lists folders it could not remove (and why)."""

    deleted: list[int] = field(default_factory=list)
    restored: list[int] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    freed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _set_state(store: MetadataStore, artifacts: list[Any], state: int) -> None:
    for start in range(0, len(artifacts), _BATCH):
        batch = artifacts[start : start + _BATCH]
        for a in batch:
            a.state = state
        store.call("put_artifacts", batch)


def _taken_since(store: MetadataStore, plan: GcPlan, ids: list[int]) -> set[int]:
    """Marked artifacts that an execution newer than the plan reads or reuses."""
    taken: set[int] = set()
    for start in range(0, len(ids), _BATCH):
        for ev in store.call("get_events_by_artifact_ids", ids[start : start + _BATCH]):
            if ev.execution_id > plan.newest_execution:
                taken.add(ev.artifact_id)
    return taken


def _remove(path: str) -> None:
    # rmtree never follows a symlink out of the folder; a missing path was removed with
    # the folder around it (a second output inside the first).
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def apply_gc(
    store: MetadataStore, plan: GcPlan, progress: Callable[[str], None] = lambda _: None
) -> GcResult:
    """Mark the plan's artifacts DELETED, then remove its folders; report as it goes."""
    result = GcResult()
    if plan.artifacts:
        progress(f"marking {len(plan.artifacts)} artifacts DELETED in {plan.store}")
        _set_state(store, plan.artifacts, _DELETED)
        taken = _taken_since(store, plan, [a.id for a in plan.artifacts])
        if taken:
            back = [a for a in plan.artifacts if a.id in taken]
            _set_state(store, back, _LIVE)
            result.restored = sorted(taken)
            progress(f"{len(taken)} of them were taken by a run that started meanwhile: kept")
        result.deleted = sorted(a.id for a in plan.artifacts if a.id not in taken)
    spared = {r.path for r in plan.removals if r.artifact_id in set(result.restored)}
    todo = [r for r in plan.removals if r.path not in spared]
    if todo:
        progress(f"removing {len(todo)} folders under {plan.root}")
    for removal in todo:
        try:
            _remove(removal.path)
        except OSError as e:
            result.errors.append(f"{removal.path}: {e.strerror or e}")
            continue
        result.removed.append(removal.path)
        result.freed += removal.size
    if plan.collected_contexts:
        stamp = time.time()
        for ctx in plan.collected_contexts:
            set_value(ctx.custom_properties["collected_at"], stamp)
        store.call("put_contexts", plan.collected_contexts)
    return result
