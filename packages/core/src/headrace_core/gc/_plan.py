"""Deciding what ``headrace gc`` may remove: which runs are old, and what must stay.

A run is collected when it is older than the last ``keep_last`` runs of its pipeline (and, with
``older_than_days``, started before that many days ago) and is not active. Its artifacts go,
except those that something still needs:

- anything a kept run read or wrote (its inputs, outputs and the outputs it reused from cache);
- the latest outputs of each node, whichever run made them (a node left out of recent runs
  still has its last results);
- the latest blessed model of each evaluating node, with its blessing, and every pushed model,
  with what its Pusher read;
- every output of an execution any of whose outputs stays: the layout nests the second output
  of a key inside the first one's folder, and a half-removed execution helps nobody.

Only files under the pipeline root go: an imported artifact or a push destination elsewhere
is never touched. Folders that no LIVE artifact owns are removed too: staging and scratch
space of executions that are no longer RUNNING, outputs a killed launch left unpublished, and
files of artifacts an interrupted gc already marked DELETED.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from headrace_core.errors import HeadraceError
from headrace_core.layout import OnDisk, PipelineLayout
from headrace_core.metadata import (
    EVENT_INPUT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    RUN_CONTEXT,
    MetadataStore,
    custom,
    redact,
    sqlite_path,
)

__all__ = ["ACTIVE_WINDOW_S", "GcPlan", "Removal", "plan_gc"]

# MLMD's enums (ml_metadata is imported only where a store is opened).
_RUNNING, _COMPLETE, _CACHED = 2, 3, 5
_LIVE = 2
#: A run nobody closed counts as active while anything in it moved this recently: an
#: orchestrator may leave a run between two tasks for hours.
ACTIVE_WINDOW_S = 24 * 3600.0


@dataclass(frozen=True)
class Removal:
    """One folder gc removes and why; ``artifact_id`` when an artifact owns it."""

    path: str
    size: int
    reason: str  # "artifact", "staging", "scratch", "unpublished", "deleted", "run files"
    artifact_id: int | None = None
    run_id: str | None = None


@dataclass
class GcPlan:
    """What a gc of one pipeline root would do; nothing is changed until it is applied."""

    root: str
    store: str  # redacted
    runs: int
    kept_runs: list[str]
    collected_runs: list[str]
    artifacts: list[Any]  # MLMD protos to mark DELETED
    removals: list[Removal]
    #: Artifacts of collected runs that stay, by the first reason found.
    kept: dict[str, int] = field(default_factory=dict)
    #: Folders left alone because their execution is still RUNNING.
    running: list[str] = field(default_factory=list)
    newest_execution: int = 0
    collected_contexts: list[Any] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(r.size for r in self.removals)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pipeline_root": self.root,
            "store": self.store,
            "runs": self.runs,
            "kept_runs": self.kept_runs,
            "collected_runs": self.collected_runs,
            "artifacts": [a.id for a in self.artifacts],
            "removals": [r.__dict__ for r in self.removals],
            "kept": self.kept,
            "running": self.running,
            "bytes": self.size,
        }


def _size(path: str) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed meanwhile
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _under(path: str, root: str) -> bool:
    if "://" in path:
        return False
    real = os.path.realpath(path)
    return real.startswith(os.path.realpath(root) + os.sep)


def _runs_of_root(store: MetadataStore, layout: PipelineLayout) -> list[Any]:
    """Run contexts of pipelines rooted at ``layout``: a shared MySQL store holds others."""
    own_store = sqlite_path(store.url) == layout.metadata_sqlite
    runs = []
    for ctx in store.call("get_contexts_by_type", RUN_CONTEXT):
        recorded = custom(ctx, "pipeline_root")
        if recorded == layout.root or (recorded is None and own_store):
            runs.append(ctx)
    return runs


def _started(ctx: Any) -> float:
    value = custom(ctx, "started_at")
    return float(value) if isinstance(value, (int, float)) else ctx.create_time_since_epoch / 1e3


def _active(ctx: Any, executions: list[Any], now: float) -> bool:
    if custom(ctx, "status") is not None:
        return False
    if any(e.last_known_state == _RUNNING for e in executions):
        return True
    moved: int = max(
        [ctx.last_update_time_since_epoch, *(e.last_update_time_since_epoch for e in executions)]
    )
    return now - moved / 1e3 < ACTIVE_WINDOW_S


def _choose_runs(
    runs: list[Any],
    executions: Mapping[int, list[Any]],
    keep_last: int,
    older_than_days: float | None,
    now: float,
) -> tuple[list[Any], list[Any]]:
    by_pipeline: dict[str, list[Any]] = {}
    for ctx in runs:
        by_pipeline.setdefault(str(custom(ctx, "pipeline")), []).append(ctx)
    cutoff = None if older_than_days is None else now - older_than_days * 86400.0
    kept, collected = [], []
    for contexts in by_pipeline.values():
        contexts.sort(key=lambda c: (_started(c), c.id), reverse=True)
        for index, ctx in enumerate(contexts):
            old = index >= keep_last and (cutoff is None or _started(ctx) < cutoff)
            if old and not _active(ctx, executions[ctx.id], now):
                collected.append(ctx)
            else:
                kept.append(ctx)
    return kept, collected


class _Protection:
    """Artifact ids that stay, each with the first reason found."""

    def __init__(self, events: list[Any], executions: Mapping[int, Any]) -> None:
        self.reasons: dict[int, str] = {}
        self.outputs: dict[int, set[int]] = {}  # execution -> artifacts it produced
        self.producer: dict[int, int] = {}
        self.reads: dict[int, set[int]] = {}  # execution -> every artifact it touched
        self.inputs: dict[int, set[int]] = {}
        for ev in events:
            self.reads.setdefault(ev.execution_id, set()).add(ev.artifact_id)
            if ev.type == EVENT_INPUT:
                self.inputs.setdefault(ev.execution_id, set()).add(ev.artifact_id)
            if ev.type == EVENT_OUTPUT:
                self.outputs.setdefault(ev.execution_id, set()).add(ev.artifact_id)
                self.producer[ev.artifact_id] = ev.execution_id
        self.executions = executions

    def keep(self, artifact_ids: Iterable[int], reason: str) -> None:
        for artifact_id in artifact_ids:
            self.reasons.setdefault(artifact_id, reason)

    def close_over_executions(self) -> None:
        for artifact_id in list(self.reasons):
            producer = self.producer.get(artifact_id)
            if producer is not None:
                self.keep(self.outputs.get(producer, ()), "output of the same execution")


def _node(execution: Any) -> str:
    return f"{custom(execution, 'pipeline')}:{custom(execution, 'node_id')}"


def _latest_per_node(
    executions: Iterable[Any], produced_by: Mapping[int, set[int]]
) -> dict[str, Any]:
    """Each node's newest successful execution that has outputs (made or reused)."""
    latest: dict[str, Any] = {}
    for e in sorted(executions, key=lambda e: e.id):
        if e.last_known_state in (_COMPLETE, _CACHED) and produced_by.get(e.id):
            latest[_node(e)] = e
    return latest


def _protect(
    store: MetadataStore,
    kept_runs: list[Any],
    by_run: Mapping[int, list[Any]],
    events: list[Any],
    artifacts: Mapping[int, Any],
) -> _Protection:
    executions = {e.id: e for es in by_run.values() for e in es}
    p = _Protection(events, executions)
    for ctx in kept_runs:
        for e in by_run[ctx.id]:
            p.keep(p.reads.get(e.id, ()), "read or written by a kept run")
    produced: dict[int, set[int]] = {}
    for ev in events:
        if ev.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT):
            produced.setdefault(ev.execution_id, set()).add(ev.artifact_id)
    for e in _latest_per_node(executions.values(), produced).values():
        p.keep(produced[e.id], "latest output of its node")
    newest_blessing: dict[str, Any] = {}
    for a in sorted(artifacts.values(), key=lambda a: a.id):
        if a.state != _LIVE:
            continue
        kind = store.artifact_type_name(a.type_id)
        if kind == "ModelBlessing" and custom(a, "blessed") == 1:
            producer = executions.get(p.producer.get(a.id, -1))
            newest_blessing["" if producer is None else _node(producer)] = a
        elif kind == "PushedModel" and custom(a, "pushed") == 1:
            p.keep([a.id], "pushed model")
            p.keep(p.inputs.get(p.producer.get(a.id, -1), ()), "input of a push")
    for blessing in newest_blessing.values():
        p.keep([blessing.id], "latest blessing")
        model = custom(blessing, "current_model_id")
        if isinstance(model, int):
            p.keep([model], "latest blessed model")
    p.close_over_executions()
    return p


def _folders(
    layout: PipelineLayout,
    node_ids: set[str],
    states: Mapping[int, int],
    by_uri: Mapping[str, list[Any]],
    planned: set[str],
) -> tuple[list[Removal], list[str]]:
    """Folders of executions that no LIVE artifact owns; those of RUNNING executions apart."""
    removals, running = [], []
    for found in layout.execution_folders(node_ids):
        found_state = states.get(found.execution_id)
        if found_state is None or found.path in planned:
            continue  # not an execution of this root's runs: not ours to judge
        if found_state == _RUNNING:
            running.append(found.path)
            continue
        reason = _orphan_reason(found, by_uri)
        if reason is not None:
            removals.append(Removal(found.path, _size(found.path), reason))
    return removals, running


def _orphan_reason(found: OnDisk, by_uri: Mapping[str, list[Any]]) -> str | None:
    if found.kind != "output":
        return found.kind
    owners = by_uri.get(found.path, [])
    if any(a.state == _LIVE for a in owners):
        return None
    return "deleted" if owners else "unpublished"


def plan_gc(
    store: MetadataStore,
    pipeline_root: str,
    *,
    keep_last: int = 10,
    older_than_days: float | None = None,
    now: float | None = None,
) -> GcPlan:
    """What a gc of ``pipeline_root`` would remove; see the module's docstring for the rules."""
    if keep_last < 1:
        raise HeadraceError("--keep-last must be at least 1: gc always keeps the latest run")
    if older_than_days is not None and older_than_days < 0:
        raise HeadraceError("--older-than must be a number of days, 0 or more")
    if "://" in pipeline_root:
        raise HeadraceError(f"gc removes local files only; {pipeline_root} is not a local folder")
    layout = PipelineLayout(pipeline_root)
    now = time.time() if now is None else now
    runs = _runs_of_root(store, layout)
    by_run = {ctx.id: store.executions_in_context(ctx.id) for ctx in runs}
    executions = {e.id: e for es in by_run.values() for e in es}
    events = store.events(executions)
    artifacts = {a.id: a for a in store.artifacts({ev.artifact_id for ev in events})}
    kept_runs, collected_runs = _choose_runs(runs, by_run, keep_last, older_than_days, now)
    protection = _protect(store, kept_runs, by_run, events, artifacts)

    doomed: list[Any] = []
    removals: list[Removal] = []
    kept: dict[str, int] = {}
    for ctx in collected_runs:
        for e in by_run[ctx.id]:
            for artifact_id in sorted(protection.outputs.get(e.id, ())):
                a = artifacts.get(artifact_id)
                if a is None or a.state != _LIVE:
                    continue
                reason = protection.reasons.get(artifact_id)
                if reason is not None:
                    kept[reason] = kept.get(reason, 0) + 1
                elif _under(a.uri, layout.root):
                    doomed.append(a)
                    run_id = str(custom(ctx, "run_id"))
                    removals.append(Removal(a.uri, _size(a.uri), "artifact", a.id, run_id))
    # A second output of a key lives inside the first one's folder: count each file once.
    removals = _outermost(removals)
    by_uri: dict[str, list[Any]] = {}
    for a in artifacts.values():
        by_uri.setdefault(a.uri, []).append(a)
    node_ids = {str(custom(e, "node_id")) for e in executions.values()}
    states = {e.id: e.last_known_state for e in executions.values()}
    leftovers, running = _folders(layout, node_ids, states, by_uri, {r.path for r in removals})
    removals += leftovers
    for ctx in collected_runs:
        # A run whose outputs partly stay keeps its logs: they explain those outputs.
        if any(
            protection.outputs.get(e.id, set()) & protection.reasons.keys() for e in by_run[ctx.id]
        ):
            continue
        run_id = str(custom(ctx, "run_id"))
        run_dir = layout.run_dir(run_id)
        if os.path.isdir(run_dir):
            removals.append(Removal(run_dir, _size(run_dir), "run files", None, run_id))
    return GcPlan(
        root=layout.root,
        store=redact(store.url),
        runs=len(runs),
        kept_runs=[str(custom(c, "run_id")) for c in kept_runs],
        collected_runs=[str(custom(c, "run_id")) for c in collected_runs],
        artifacts=doomed,
        removals=removals,
        kept=kept,
        running=running,
        newest_execution=max(executions, default=0),
        collected_contexts=collected_runs,
    )


def _outermost(removals: list[Removal]) -> list[Removal]:
    """The same removals, a folder inside another one counted as size 0."""
    paths = {r.path for r in removals}
    inner = {p for p in paths if any(p.startswith(q + os.sep) for q in paths)}
    return [
        Removal(r.path, 0, r.reason, r.artifact_id, r.run_id) if r.path in inner else r
        for r in removals
    ]
