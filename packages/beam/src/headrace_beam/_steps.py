"""The Beam graph: a step per node, each launching its node once its upstream steps are done.

Imported only when a run starts (it imports Beam). Everything here runs on Beam workers: in the
runner's process on the DirectRunner and on a LOOPBACK PortableRunner, in other processes
otherwise. A step never raises for a failing node (a raise would fail the whole Beam pipeline
and stop independent branches): the failure is recorded and passed downstream as data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.typehints.decorators import no_annotations

from headrace_beam import _channel
from headrace_core.runtime import Status

__all__ = ["RunNode", "add_steps"]

_FINISHED = Status.FINISHED  # statuses after which a downstream node may run
NOT_RUN = Status.NOT_RUN


def add_steps(
    p: beam.Pipeline,
    document_text: str,
    nodes: Sequence[Mapping[str, Any]],
    *,
    run_id: str,
    metadata_url: str,
    isolation: str,
    channel: str,
) -> dict[str, beam.PCollection]:
    """Add a step per node to ``p``; returns node id -> the step's one-element output."""
    # The IR travels once, as the element every step receives, instead of inside each DoFn.
    # The label has a space, which no node id has, so it never clashes with a node's.
    document = p | "headrace IR" >> beam.Create([document_text])
    steps: dict[str, beam.PCollection] = {}
    for node in nodes:
        node_id = node["id"]
        upstream = [beam.pvalue.AsSingleton(steps[u]) for u in node.get("upstream", [])]
        steps[node_id] = document | node_id >> beam.ParDo(
            RunNode(node_id, run_id, metadata_url, isolation, channel), *upstream
        )
    return steps


class RunNode(beam.DoFn):  # type: ignore[misc]
    """Launches one node; its output is ``{"node_id", "status"}`` for the steps downstream."""

    def __init__(
        self,
        node_id: str,
        run_id: str,
        metadata_url: str,
        isolation: str,
        channel: str,
    ) -> None:
        super().__init__()
        self.node_id = node_id
        self.run_id = run_id
        self.metadata_url = metadata_url
        self.isolation = isolation
        self.channel = channel

    # Beam would read ``*upstream`` as one tuple-typed input and refuse the side inputs.
    @no_annotations  # type: ignore[untyped-decorator]
    def process(self, document_text: str, *upstream: Any) -> Iterator[dict[str, Any]]:
        blocked = _blocked_by(upstream)
        if blocked is not None:
            result: dict[str, Any] = {
                "node_id": self.node_id,
                "status": NOT_RUN,
                "message": f"upstream node {blocked!r} did not succeed",
            }
        elif self.isolation == "in-process":
            result = self._launch_in_process(document_text)
        else:
            result = self._launch_subprocess(document_text)
        _channel.write_result(self.channel, self.node_id, result)
        yield {"node_id": self.node_id, "status": result["status"]}

    def _launch_in_process(self, document_text: str) -> dict[str, Any]:
        from headrace_core import ir
        from headrace_core.errors import HeadraceError
        from headrace_core.runtime import (
            NodeResult,
            Status,
            apply_environment,
            launch_node,
            open_run,
        )

        started = time.monotonic()
        try:
            document = ir.loads(document_text)
            apply_environment(document["nodes"])
            # A store and a session per step, opened here in the worker: connections do not
            # travel between processes, a session reads the run's executions when it is made
            # (the upstream nodes were recorded by other steps), and a connection kept across
            # runs would go on writing to a store file that was deleted and made anew.
            session = open_run(
                document, run_id=self.run_id, metadata_url=self.metadata_url, orchestrator="beam"
            )
            node_result = launch_node(
                session,
                self.node_id,
                on_start=lambda n: _channel.mark_running(self.channel, n),
            )
        except HeadraceError as e:
            node_result = NodeResult(
                self.node_id,
                Status.FAILED,
                duration=time.monotonic() - started,
                error=str(e),
                message=str(e),
            )
        except Exception as e:
            # The store or the file system failed around the executor: report this node and
            # let independent branches finish, as the local runner does.
            node_result = NodeResult(
                self.node_id,
                Status.FAILED,
                duration=time.monotonic() - started,
                error="".join(traceback.format_exception(e)).strip(),
                message=f"{type(e).__name__}: {e}",
            )
        return node_result.to_json()

    def _launch_subprocess(self, document_text: str) -> dict[str, Any]:
        _channel.mark_running(self.channel, self.node_id)
        started = time.monotonic()
        result_file = _channel.launch_result_file(self.channel, self.node_id)
        if os.path.exists(result_file):
            os.unlink(result_file)  # a Beam retry of this step: read only this launch's result
        proc = subprocess.run(
            [
                # The worker's interpreter: the runner's path may not exist on a remote worker.
                sys.executable,
                "-m",
                "headrace_core.launch",
                "--ir",
                "-",
                "--node",
                self.node_id,
                "--run-id",
                self.run_id,
                "--metadata",
                self.metadata_url,
                "--result-file",
                result_file,
                "--orchestrator",
                "beam",
            ],
            input=document_text,
            text=True,
            check=False,
        )
        try:
            with open(result_file, encoding="utf-8") as f:
                data: dict[str, Any] = json.load(f)
        except (OSError, ValueError):
            message = f"node process exited with status {proc.returncode} and left no result"
            return {
                "node_id": self.node_id,
                "status": "failed",
                "execution_id": None,
                "duration": time.monotonic() - started,
                "error": message,
                "message": message,
            }
        # The wall time of the node as this step saw it, interpreter start included.
        data["duration"] = time.monotonic() - started
        return data


def _blocked_by(upstream: Sequence[Mapping[str, Any]]) -> str | None:
    """The upstream node that keeps this one from running: a failed one first, then one that
    was itself not run (the local runner's order)."""
    failed = [u["node_id"] for u in upstream if u["status"] not in _FINISHED | {NOT_RUN}]
    not_run = [u["node_id"] for u in upstream if u["status"] == NOT_RUN]
    blocking = failed + not_run
    return blocking[0] if blocking else None
