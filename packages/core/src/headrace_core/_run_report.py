"""What a run tells its user at the end, and a local run with the console of ``headrace run``.

``headrace run`` and script mode (:func:`run_in_console`, what ``python pipeline.py`` calls
through TFX's ``LocalDagRunner().run(pipeline)``) print the same lines: the start, each node
event, progress of long nodes, the summary with the headlines of what was made, and each
failure with where its output went.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from headrace_core.errors import HeadraceError

__all__ = [
    "PipelineCaptured",
    "PipelineRunError",
    "capturing_runs",
    "print_failures",
    "print_run_start",
    "print_run_summary",
    "raise_if_capturing",
    "run_in_console",
]


class PipelineRunError(HeadraceError, RuntimeError):
    """A run ended with failed or unfinished nodes; :attr:`result` holds every node's result."""

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result


class PipelineCaptured(BaseException):
    """Raised by :func:`run_in_console` under :func:`capturing_runs`: the pipeline a script
    would have run. A BaseException, so that a script's ``except Exception`` lets it through."""

    def __init__(self, pipeline: Any) -> None:
        super().__init__("pipeline captured")
        self.pipeline = pipeline


_capture = {"active": False}


@contextlib.contextmanager
def capturing_runs() -> Iterator[None]:
    """While active, a script-mode run raises :class:`PipelineCaptured` with its pipeline
    instead of running it: how ``headrace run`` takes the pipeline of a file that runs its
    pipeline itself in ``__main__`` (TFX's examples: ``LocalDagRunner().run(...)``)."""
    before = _capture["active"]
    _capture["active"] = True
    try:
        yield
    finally:
        _capture["active"] = before


def raise_if_capturing(pipeline: Any) -> None:
    """Under :func:`capturing_runs`, hand ``pipeline`` over instead of running it (every
    runner's ``run`` calls this first)."""
    if _capture["active"]:
        raise PipelineCaptured(pipeline)


def _headlines(result: Any, producers: set[str]) -> list[tuple[str, str]]:
    from headrace_core.executor import import_ref
    from headrace_core.metadata import MetadataStore
    from headrace_core.plugins import get_plugin_manager
    from headrace_core.show import artifact_from_store

    # A run that made something asks every installed plugin for a viewer; a fully cached one
    # only those it loaded (its components'), so that it imports no plugin just for headlines.
    viewers = get_plugin_manager().viewers
    made = any(r.status == "complete" for r in result.results.values())
    found = {e.name: e for e in viewers.entries()} if made else viewers.loaded()
    wanted = {n: e.value.viewer for n, e in found.items() if e.value.run_summary}
    outputs = {
        node_id: [i for ids in r.to_json()["outputs"].values() for i in ids]
        for node_id, r in result.results.items()
        if node_id in producers
    }
    if not wanted or not any(outputs.values()):
        return []
    store = MetadataStore(result.metadata_url)
    lines: list[tuple[str, str]] = []
    for node_id, ids in outputs.items():
        for proto in store.artifacts(ids):
            type_name = store.artifact_type_name(proto.type_id)
            if type_name not in wanted:
                continue
            try:
                headline = import_ref(wanted[type_name])(artifact_from_store(store, proto)).headline
            except Exception as e:  # one broken viewer must not hide the other headlines
                headline = f"({type_name} #{proto.id}: viewer failed: {e})"
            if headline:
                lines.append((node_id, headline))
    return lines


def print_run_start(document: Mapping[str, Any], orchestrator: str, url: str) -> None:
    """``running 'penguin': 9 nodes on local, metadata in URL`` (the URL without password)."""
    from headrace_core.metadata import redact

    print(
        f"running {document['pipeline']['name']!r}: {len(document['nodes'])} nodes on "
        f"{orchestrator}, metadata in {redact(url)}",
        flush=True,
    )


def print_run_summary(result: Any, document: Mapping[str, Any]) -> None:
    """Each node's status and duration, then the headlines of the artifacts that matter (a
    model's metrics, its blessing, where it was pushed), from viewers that ask for it, and
    how many nodes ended how: ``run ID: 8 complete, 1 cached in 14.7s``."""
    from headrace_core._console import LABELS
    from headrace_core.runtime import Status

    width = max(len(n["id"]) for n in document["nodes"])
    # Resolvers and importers only link artifacts that their producers already headline.
    producers = {n["id"] for n in document["nodes"] if n.get("kind") == "component"}
    print("\nsummary:")
    for node_id, r in result.results.items():
        label = LABELS.get(r.status, r.status)
        print(f"  {node_id.ljust(width)}  {label:8} {r.duration:7.2f}s")
    for node_id in result.not_run:
        print(f"  {node_id.ljust(width)}  {LABELS[Status.NOT_RUN]}")
    try:
        headlines = _headlines(result, producers)
    except Exception as e:  # a summary must not fail a run that succeeded
        headlines = [("", f"(headlines unavailable: {e})")]
    for node_id, line in headlines:
        print(f"  {node_id.ljust(width)}  {line}")
    print()
    counts: dict[str, int] = {}
    for r in result.results.values():
        counts[r.status] = counts.get(r.status, 0) + 1
    if result.not_run:
        counts["not run"] = len(result.not_run)
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(f"run {result.run_id}: {summary} in {result.duration:.1f}s", flush=True)


def print_failures(
    result: Any,
    document: Mapping[str, Any],
    *,
    verbose: bool = False,
    local: bool = True,
) -> None:
    """Each failed node's error, where its output went (a local run's node log), and how to
    see the details, on standard error."""
    from headrace_core.metadata import redact
    from headrace_core.runtime import PipelineLayout

    out = sys.stderr
    for node_id in result.failed_nodes:
        failure = result.results[node_id]
        print(
            f"headrace: error: node {node_id!r} failed: "
            f"{failure.explained if failure.message else failure.error}",
            file=out,
        )
        if failure.error and verbose:
            print(failure.error, file=out)
        if local:
            log = PipelineLayout(document["pipeline"]["root"]).node_log(result.run_id, node_id)
            if os.path.exists(log):
                print(f"headrace: its output: {log}", file=out)
    print(
        f"headrace: details: headrace runs show {result.run_id} "
        f"--metadata {redact(result.metadata_url)}",
        file=out,
    )


def run_in_console(
    pipeline: Any, *, runner: Any = None, verbose: bool = False, **runner_options: Any
) -> Any:
    """Run ``pipeline`` as ``headrace run`` does, printing the same lines, and return its
    result; raise :class:`PipelineRunError` naming the failed nodes if any node failed (so a
    script exits non-zero). On the local runner (``LocalDagRunner(**runner_options)``) unless
    ``runner`` is another orchestrator's runner (its ``on_event`` is set here); the local
    runner's node output goes to per-node logs, as with ``headrace run``."""
    raise_if_capturing(pipeline)
    from headrace_core._console import RunConsole
    from headrace_core.metadata import child_environment
    from headrace_core.orchestration.local import LocalDagRunner
    from headrace_core.runtime import PipelineLayout, new_run_id, pipeline_metadata_url

    local = runner is None
    if local:
        runner = LocalDagRunner(**runner_options)
    elif runner_options:
        raise HeadraceError(f"run_in_console: {', '.join(runner_options)} are the local runner's")
    document = LocalDagRunner._document(pipeline)
    url = pipeline_metadata_url(document, runner.metadata_url)
    os.environ.update(child_environment(url, {}))
    console = RunConsole(max(len(n["id"]) for n in document["nodes"]), verbose=verbose)
    runner.on_event = console.event
    print_run_start(document, "local" if local else type(runner).__name__, url)
    run_id = new_run_id()
    if local:
        with console.capturing(PipelineLayout(document["pipeline"]["root"]), run_id):
            result = runner.run(document, run_id=run_id)
    else:
        result = runner.run(document)
    print_run_summary(result, document)
    if not result.succeeded:
        print_failures(result, document, verbose=verbose, local=local)
        failed = result.failed_nodes
        what = (
            f"node{'s' if len(failed) > 1 else ''} {', '.join(map(repr, failed))} failed"
            if failed
            else f"{', '.join(map(repr, sorted(result.not_run)))} did not run"
        )
        name = document["pipeline"]["name"]
        raise PipelineRunError(f"pipeline {name!r}, run {result.run_id}: {what}", result)
    return result
