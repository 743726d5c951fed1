"""The artifact page (type, properties, producer, consumers, the component's own view) and
the lineage graph around an artifact or an execution, across runs.

Lineage is :func:`headrace_core.history.lineage` (what ``headrace lineage`` prints), walked
upstream and downstream from the starting point and merged into one graph of artifacts and
executions; each step is a query by artifact or execution id.
"""

from __future__ import annotations

from typing import Any

from headrace_core import history
from headrace_core.errors import HeadraceError
from headrace_core.metadata import (
    EVENT_INPUT,
    EVENT_INTERNAL_OUTPUT,
    EVENT_OUTPUT,
    MetadataStore,
    custom,
    event_paths,
    get_value,
)

__all__ = ["MAX_LINEAGE_NODES", "artifact_detail", "lineage_graph", "viewer_summary"]

#: A lineage graph larger than this is cut (and says so): a page must stay readable and fast.
MAX_LINEAGE_NODES = 300
_STATES = {1: "PENDING", 2: "LIVE", 3: "MARKED_FOR_DELETION", 4: "DELETED", 5: "ABANDONED"}


def _execution_row(e: Any, key: str | None = None) -> dict[str, Any]:
    return {
        "execution_id": e.id,
        "node_id": custom(e, "node_id"),
        "run_id": custom(e, "run_id"),
        "pipeline": custom(e, "pipeline"),
        "status": custom(e, "status"),
        "key": key,
    }


def viewer_summary(store: MetadataStore, proto: Any) -> dict[str, Any]:
    """What the viewer registered for the artifact's type says (``headrace show``): text,
    the path of its HTML view if it has one, its data; or the viewer's error."""
    from headrace_core.show import summarize

    try:
        _, summary = summarize(store, proto)
    except HeadraceError as e:
        return {"text": None, "html_path": None, "data": {}, "error": str(e)}
    return {
        "text": summary.text,
        "html_path": summary.html_path,
        "data": summary.data,
        "headline": summary.headline,
        "error": None,
    }


def artifact_detail(store: MetadataStore, artifact_id: int) -> dict[str, Any] | None:
    found = store.artifacts([artifact_id])
    if not found:
        return None
    a = found[0]
    events = list(store.call("get_events_by_artifact_ids", [a.id]))
    executions = {
        e.id: e
        for e in store.call("get_executions_by_id", sorted({ev.execution_id for ev in events}))
    }
    producer, consumers, reusers = None, [], []
    for ev in sorted(events, key=lambda ev: ev.execution_id):
        e = executions.get(ev.execution_id)
        if e is None:
            continue
        key = ", ".join(k for k, _ in event_paths(ev)) or None
        if ev.type == EVENT_OUTPUT:
            producer = _execution_row(e, key)
        elif ev.type == EVENT_INPUT:
            consumers.append(_execution_row(e, key))
        elif ev.type == EVENT_INTERNAL_OUTPUT:
            reusers.append(_execution_row(e, key))
    return {
        "id": a.id,
        "type": store.artifact_type_name(a.type_id),
        "uri": a.uri,
        "state": _STATES.get(a.state, str(a.state)),
        "created_at": a.create_time_since_epoch / 1000.0,
        "properties": {k: get_value(v) for k, v in sorted(a.properties.items())},
        "custom_properties": {k: get_value(v) for k, v in sorted(a.custom_properties.items())},
        "producer": producer,
        "consumers": consumers,
        "reusers": reusers,
        "view": viewer_summary(store, a),
    }


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: set[tuple[str, str]] = set()
        self.truncated = False

    def artifact(self, row: dict[str, Any]) -> str:
        key = f"a{row['id']}"
        if key not in self.nodes:
            self.nodes[key] = {
                "id": key,
                "kind": "artifact",
                "artifact_id": row["id"],
                "label": f"{row['type']} #{row['id']}",
                "sub": row["state"],
                "status": "artifact",
            }
        return key

    def execution(self, step: dict[str, Any]) -> str:
        key = f"e{step['execution_id']}"
        if key not in self.nodes:
            self.nodes[key] = {
                "id": key,
                "kind": "execution",
                "execution_id": step["execution_id"],
                "label": str(step["node_id"]),
                "sub": f"run {step['run_id']}",
                "status": str(step["status"]),
                "run_id": step["run_id"],
                "node_id": step["node_id"],
            }
        return key

    def add(self, graph: dict[str, Any]) -> None:
        arts = graph["artifacts"]
        for step in graph["steps"]:
            if len(self.nodes) >= MAX_LINEAGE_NODES:
                self.truncated = True
                return
            e = self.execution(step)
            for a in step["inputs"]:
                self.edges.add((self.artifact(arts[a]), e))
            for a in step["outputs"]:
                self.edges.add((e, self.artifact(arts[a])))


def lineage_graph(
    store: MetadataStore,
    *,
    artifact_id: int | None = None,
    execution_id: int | None = None,
    pipeline: str | None = None,
) -> dict[str, Any] | None:
    """The graph upstream and downstream of an artifact or an execution: nodes (artifacts
    and executions), edges in the direction data flowed, and the starting node's key."""
    g = _Graph()
    if artifact_id is not None:
        if not store.artifacts([artifact_id]):
            return None
        roots = [artifact_id]
        up, down = [artifact_id], [artifact_id]
        start = f"a{artifact_id}"
    else:
        found = store.call("get_executions_by_id", [execution_id])
        if not found:
            return None
        e = found[0]
        events = store.events([e.id])
        up = sorted({ev.artifact_id for ev in events if ev.type == EVENT_INPUT})
        down = sorted(
            {ev.artifact_id for ev in events if ev.type in (EVENT_OUTPUT, EVENT_INTERNAL_OUTPUT)}
        )
        roots = []
        start = f"e{e.id}"
        g.execution({**_execution_row(e), "execution_id": e.id})
        for a in up:
            g.edges.add((f"a{a}", start))
        for a in down:
            g.edges.add((start, f"a{a}"))
    for direction, ids in (("upstream", up), ("downstream", down)):
        for a in ids:
            walked = history.lineage(store, a, direction)
            g.artifact(walked["artifact"])
            g.add(walked)
    for a in roots:
        g.nodes[f"a{a}"]["root"] = True
    if start in g.nodes:
        g.nodes[start]["root"] = True
    # An edge to an artifact the walk never described (an execution's own inputs).
    missing = {k for edge in g.edges for k in edge if k not in g.nodes and k.startswith("a")}
    for a in store.artifacts(int(k[1:]) for k in missing):
        g.artifact(
            {"id": a.id, "type": store.artifact_type_name(a.type_id), "state": _STATES.get(a.state)}
        )
    return {
        "start": start,
        "pipeline": pipeline,
        "nodes": sorted(g.nodes.values(), key=lambda n: n["id"]),
        "edges": [{"source": s, "target": t} for s, t in sorted(g.edges)],
        "truncated": g.truncated,
    }
