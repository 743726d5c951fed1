"""The local runner, headrace's embedded default: a DAG scheduler over the launcher.

Independent nodes run concurrently (``max_parallel``, default the number of cores). A failed
node stops its downstream nodes; independent branches finish. Partial runs (``from_nodes``,
``to_nodes``) reuse the latest outputs of the nodes they do not run; ``resume`` re-executes
only what failed or never finished in an earlier run. With ``isolation="subprocess"`` each
node runs through ``python -m headrace_core.launch``, the entry point other orchestrators use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from headrace_core._run_report import PipelineRunError, raise_if_capturing, run_in_console
from headrace_core.dsl import Pipeline
from headrace_core.errors import HeadraceError
from headrace_core.metadata import MetadataStore, child_environment, store_exists, strip_password
from headrace_core.runtime import (
    NodeEvent,
    NodeResult,
    Prediction,
    RunResult,
    RunSession,
    Status,
    active_output,
    apply_environment,
    launch_node,
    new_run_id,
    open_run,
    pipeline_metadata_url,
    plan_nodes,
)

__all__ = [
    "LocalDagRunner",
    "NodeEvent",
    "PipelineRunError",
    "RunResult",
    "new_run_id",
    "run_in_console",
    "select_nodes",
]

ISOLATIONS = ("in-process", "subprocess")


def _closure(start: Collection[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, []))
    return seen


def select_nodes(
    ir: Mapping[str, Any],
    from_nodes: Collection[str] | None = None,
    to_nodes: Collection[str] | None = None,
) -> list[str]:
    """Node ids a partial run executes, in IR order: downstream of ``from_nodes`` and upstream
    of ``to_nodes`` (both included)."""
    nodes = [n["id"] for n in ir["nodes"]]
    known = set(nodes)
    for name in [*(from_nodes or []), *(to_nodes or [])]:
        if name not in known:
            raise HeadraceError(f"no node {name!r} in the pipeline; nodes: {', '.join(nodes)}")
    selected = set(nodes)
    if from_nodes:
        selected &= _closure(from_nodes, {n["id"]: n["downstream"] for n in ir["nodes"]})
    if to_nodes:
        selected &= _closure(to_nodes, {n["id"]: n["upstream"] for n in ir["nodes"]})
    return [n for n in nodes if n in selected]


def _check_reusable(document: Mapping[str, Any], url: str, selected: Collection[str]) -> None:
    """A partial run takes the outputs of the nodes it does not run from their latest
    successful run: refuse up front when one of those never succeeded."""
    needed = sorted(
        {
            u
            for n in document["nodes"]
            if n["id"] in selected
            for u in n["upstream"]
            if u not in selected
        }
    )
    if not needed:
        return
    session = RunSession.for_reading(document, MetadataStore(url)) if store_exists(url) else None
    missing = [n for n in needed if session is None or session.latest_success_any_run(n) is None]
    if missing:
        raise HeadraceError(
            f"this partial run needs the outputs of {', '.join(map(repr, missing))}, which "
            "never ran successfully; run them first, or include them with --from-nodes"
        )


class LocalDagRunner:
    """Runs a pipeline on this machine, recording everything in ML Metadata."""

    def __init__(
        self,
        *,
        max_parallel: int | None = None,
        isolation: str = "in-process",
        metadata_url: str | None = None,
        on_event: Callable[[NodeEvent], None] | None = None,
        python: str | None = None,
    ) -> None:
        if isolation not in ISOLATIONS:
            raise HeadraceError(f"isolation must be one of {', '.join(ISOLATIONS)}")
        if max_parallel is not None and max_parallel < 1:
            raise HeadraceError("max_parallel must be at least 1")
        self.max_parallel = max_parallel or os.cpu_count() or 1
        self.isolation = isolation
        self.metadata_url = metadata_url
        self.on_event = on_event or (lambda event: None)
        self.python = python or sys.executable
        self._event_lock = threading.Lock()

    def _emit(self, event: NodeEvent) -> None:
        with self._event_lock:
            self.on_event(event)

    # Preparation ---------------------------------------------------------------------------

    @staticmethod
    def _document(pipeline: Pipeline | Mapping[str, Any]) -> dict[str, Any]:
        from headrace_core import ir

        if isinstance(pipeline, Pipeline):
            return ir.compile(pipeline)
        return dict(pipeline)

    def metadata_url_for(self, document: Mapping[str, Any]) -> str:
        return pipeline_metadata_url(document, self.metadata_url)

    def open_session(
        self,
        pipeline: Pipeline | Mapping[str, Any],
        *,
        run_id: str | None = None,
        reuse_latest: Collection[str] = (),
    ) -> RunSession:
        return open_run(
            self._document(pipeline),
            run_id=run_id,
            metadata_url=self.metadata_url,
            reuse_latest=reuse_latest,
        )

    # Planning ------------------------------------------------------------------------------

    def plan(
        self,
        pipeline: Pipeline | Mapping[str, Any],
        *,
        from_nodes: Collection[str] | None = None,
        to_nodes: Collection[str] | None = None,
        resume: str | None = None,
    ) -> list[Prediction]:
        """What a run would do now: each node's predicted status, without running anything."""
        document = self._document(pipeline)
        if resume and (from_nodes or to_nodes):
            raise HeadraceError(
                "--resume re-runs what an earlier run left unfinished; it takes no node selection"
            )
        selected = select_nodes(document, from_nodes, to_nodes)
        return plan_nodes(document, self.metadata_url_for(document), selected, resume=resume)

    # Running -------------------------------------------------------------------------------

    def run(
        self,
        pipeline: Pipeline | Mapping[str, Any],
        *,
        run_id: str | None = None,
        from_nodes: Collection[str] | None = None,
        to_nodes: Collection[str] | None = None,
        resume: str | None = None,
    ) -> RunResult:
        # `headrace compile` of a file that runs its pipeline in __main__ takes it from here.
        raise_if_capturing(pipeline)
        started = time.monotonic()
        document = self._document(pipeline)
        if resume and (from_nodes or to_nodes):
            raise HeadraceError(
                "--resume re-runs what an earlier run left unfinished; it takes no node selection"
            )
        selected = select_nodes(document, from_nodes, to_nodes)
        reused = [n["id"] for n in document["nodes"] if n["id"] not in selected]
        # Checked before the session is opened: opening it would create the run.
        url = self.metadata_url_for(document)
        if resume:
            run_id = resume
            name = document["pipeline"]["name"]
            if not (store_exists(url) and RunSession.run_exists(MetadataStore(url), name, resume)):
                raise HeadraceError(f"run {resume!r} of pipeline {name!r} does not exist")
        elif reused:
            _check_reusable(document, url, selected)
        session = self.open_session(document, run_id=run_id, reuse_latest=reused)
        session.layout.make_private()
        if self.isolation == "in-process":
            apply_environment(document["nodes"])
        result = RunResult(session.pipeline_name, session.run_id, session.store.url)
        # Written for in-process runs too: it is the run's graph for readers of the store
        # (headrace ui draws a run in progress from it, nodes not yet run included).
        ir_path = self._ir_file(session)

        nodes = {n["id"]: n for n in document["nodes"]}
        pending = list(selected)
        done: dict[str, str] = {}
        if resume:
            for node_id in list(pending):
                status, _ = session.node_state(node_id)
                if status in Status.FINISHED:
                    done[node_id] = status
                    pending.remove(node_id)
                    result.results[node_id] = NodeResult(
                        node_id, status, message="finished before resume"
                    )
                    self._emit(NodeEvent(node_id, status, 0.0, "finished before the resume"))
        for node_id in pending:
            self._emit(NodeEvent(node_id, Status.QUEUED))

        running: dict[Future[NodeResult], str] = {}
        with ThreadPoolExecutor(max_workers=self.max_parallel) as pool:
            while pending or running:
                blocked = []
                for node_id in list(pending):
                    ups = [u for u in nodes[node_id]["upstream"] if u in selected]
                    failed_up = [u for u in ups if u in done and done[u] not in Status.FINISHED]
                    failed_up += [u for u in ups if u in result.not_run]
                    if failed_up:
                        pending.remove(node_id)
                        reason = f"upstream node {failed_up[0]!r} did not succeed"
                        result.not_run[node_id] = reason
                        self._emit(NodeEvent(node_id, Status.NOT_RUN, 0.0, reason))
                        blocked.append(node_id)
                        continue
                    if all(u in done for u in ups) and len(running) < self.max_parallel:
                        pending.remove(node_id)
                        future = pool.submit(self._launch, session, node_id, ir_path)
                        running[future] = node_id
                if blocked:
                    continue  # a newly blocked node may block others: re-scan before waiting
                if not running:
                    if pending:  # cannot happen on a valid DAG; never spin
                        raise HeadraceError(f"nodes {pending} can never run")
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    node_id = running.pop(future)
                    node_result = future.result()
                    result.results[node_id] = node_result
                    done[node_id] = node_result.status
                    self._emit(
                        NodeEvent(
                            node_id,
                            node_result.status,
                            node_result.duration,
                            node_result.message,
                            node_result.where,
                        )
                    )
        result.duration = time.monotonic() - started
        session.finish(result.succeeded)
        return result

    def _launch(self, session: RunSession, node_id: str, ir_path: str) -> NodeResult:
        if self.isolation == "in-process":
            try:
                return launch_node(
                    session, node_id, on_start=lambda n: self._emit(NodeEvent(n, Status.RUNNING))
                )
            except HeadraceError as e:
                return NodeResult(node_id, Status.FAILED, error=str(e), message=str(e))
            except Exception as e:
                # The store or the file system failed around the executor: report this node
                # and let independent branches finish. A RUNNING execution left behind is
                # reaped as abandoned once this process has exited.
                error = "".join(traceback.format_exception(e)).strip()
                return NodeResult(
                    node_id, Status.FAILED, error=error, message=f"{type(e).__name__}: {e}"
                )
        return self._launch_subprocess(session, node_id, ir_path)

    def _ir_file(self, session: RunSession) -> str:
        from headrace_core import ir

        path = session.layout.run_ir(session.run_id)
        session.layout.make_private(os.path.dirname(path))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(ir.dumps(session.ir))
        return path

    def _launch_subprocess(self, session: RunSession, node_id: str, ir_path: str) -> NodeResult:
        self._emit(NodeEvent(node_id, Status.RUNNING))
        started = time.monotonic()
        with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as handle:
            result_file = handle.name
        # The store's password, if any, goes to the child in its environment: argv is
        # readable by every user of the machine (ps).
        url = strip_password(session.store.url)[0]
        env = child_environment(session.store.url)
        command = [
            self.python,
            *("-m", "headrace_core.launch", "--ir", ir_path, "--node", node_id),
            *("--run-id", session.run_id, "--metadata", url),
            *("--result-file", result_file),
        ]
        output = active_output()
        try:
            if output is None:
                returncode = subprocess.run(
                    command, check=False, stdin=subprocess.DEVNULL, env=env
                ).returncode
            else:
                # The node's whole output, the child's C++ logging included, into its log.
                with subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=env,
                ) as proc:
                    assert proc.stdout is not None
                    # os.read returns what is there, so the log follows the node live.
                    while chunk := os.read(proc.stdout.fileno(), 65536):
                        output.write(node_id, chunk)
                returncode = proc.returncode
            try:
                with open(result_file, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                data = None
        finally:
            os.unlink(result_file)
        if data is None:
            message = f"node process exited with status {returncode} and left no result"
            return NodeResult(
                node_id,
                Status.FAILED,
                duration=time.monotonic() - started,
                error=message,
                message=message,
            )
        return NodeResult.from_json(data, session, duration=time.monotonic() - started)
