"""Helpers of the headrace-airflow tests: compiling test pipelines, reading ML Metadata."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from headrace_airflow import compile_dag
from headrace_airflow.local import LocalAirflow
from headrace_core import ir
from headrace_core.metadata import (
    EVENT_INPUT,
    EVENT_OUTPUT,
    RUN_CONTEXT,
    MetadataStore,
    custom,
    default_metadata_url,
    run_context_name,
)
from headrace_core.pipeline_file import load_pipeline_file

TESTS = Path(__file__).parents[1]
PIPELINES = TESTS / "pipelines"
REPO = TESTS.parents[2]
HELLO = REPO / "examples" / "hello" / "pipeline.py"
# Generous: how long a started Airflow process may take to reach the node it is waiting on.
WAIT_LIMIT = 300.0

if str(PIPELINES) not in sys.path:
    sys.path.insert(0, str(PIPELINES))


def compile_pipeline(
    pipeline_file: Path, env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The IR of a pipeline file whose root (and other settings) come from ``env``."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return ir.compile(load_pipeline_file(str(pipeline_file)))


def write_dag(
    airflow: LocalAirflow, document: Mapping[str, Any], **options: Any
) -> tuple[Path, str]:
    """Compile ``document`` into the DAG folder; return the file and the DAG id."""
    dag_id = options.get("dag_id") or document["pipeline"]["name"]
    assert airflow.dags_folder is not None
    path = airflow.dags_folder / f"{dag_id}.py"
    path.write_text(compile_dag(document, options={k: str(v) for k, v in options.items()}))
    return path, dag_id


@dataclass
class Execution:
    id: int
    node_id: str
    status: str
    state: int
    error: str | None
    cached_from: int | None


class Metadata:
    """What a pipeline root's SQLite store recorded, in the terms the tests assert on."""

    def __init__(self, root: Path, pipeline: str) -> None:
        self.store = MetadataStore(default_metadata_url(str(root)))
        self.pipeline = pipeline

    def run_context(self, run_id: str) -> Any:
        ctx = self.store.get_context(RUN_CONTEXT, run_context_name(self.pipeline, run_id))
        assert ctx is not None, f"no run {run_id!r} of {self.pipeline!r} in the store"
        return ctx

    def runs(self) -> list[str]:
        return sorted(
            str(custom(c, "run_id"))
            for c in self.store.call("get_contexts_by_type", RUN_CONTEXT)
            if custom(c, "pipeline") == self.pipeline
        )

    def executions(self, run_id: str) -> list[Execution]:
        ctx = self.run_context(run_id)
        return [
            Execution(
                e.id,
                str(custom(e, "node_id")),
                str(custom(e, "status")),
                e.last_known_state,
                custom(e, "error"),
                custom(e, "cached_from"),
            )
            for e in self.store.executions_in_context(ctx.id, newest_first=False)
        ]

    def by_node(self, run_id: str) -> dict[str, list[Execution]]:
        found: dict[str, list[Execution]] = {}
        for execution in self.executions(run_id):
            found.setdefault(execution.node_id, []).append(execution)
        return found

    def outputs(self, execution_id: int) -> list[Any]:
        """Artifacts ``execution_id`` produced itself (OUTPUT events; not cache links)."""
        ids = [e.artifact_id for e in self.store.events([execution_id]) if e.type == EVENT_OUTPUT]
        return self.store.artifacts(ids) if ids else []

    def inputs(self, execution_id: int) -> list[int]:
        return sorted(
            e.artifact_id for e in self.store.events([execution_id]) if e.type == EVENT_INPUT
        )

    def live_outputs(self, run_id: str, node_id: str) -> list[Any]:
        from ml_metadata.proto import metadata_store_pb2 as pb

        return [
            a
            for e in self.by_node(run_id).get(node_id, [])
            for a in self.outputs(e.id)
            if a.state == pb.Artifact.LIVE
        ]


def state_name(state: int) -> str:
    from ml_metadata.proto import metadata_store_pb2 as pb

    return str(pb.Execution.State.Name(state))


def wait_for_file(directory: Path, prefix: str, process: Any, log: Path) -> Path:
    """The first file in ``directory`` named ``prefix...``, once the node has written it."""
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        found = sorted(directory.glob(f"{prefix}*"))
        if found:
            return found[0]
        if process.poll() is not None:
            pytest.fail(f"Airflow exited ({process.returncode}) first:\n{log.read_text()[-4000:]}")
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"no {prefix}* file in {directory} after {WAIT_LIMIT:.0f} s")


def process_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (one nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(condition: Callable[[], bool], limit: float = 60.0) -> None:
    """Wait for something that happens at once (a signal's effect), failing after ``limit``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"still not so after {limit:.0f} s")
