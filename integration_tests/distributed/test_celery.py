"""Nodes on many workers: the penguin pipeline through Airflow's CeleryExecutor.

A real deployment (``_celery.py``): Redis as the broker, Airflow's database on MariaDB, a
scheduler and two Celery workers as separate processes with their own working directories;
the pipeline root is a folder every worker reaches, ML Metadata a MariaDB database. The DAG is
what ``headrace compile --target airflow`` writes, with one retry per task.

The first DAG run loses a worker: once the Trainer is running (its execution RUNNING in ML
Metadata), every process of the worker running it is SIGKILLed, as when its machine dies, and
a new worker takes its place. The scheduler finds the task's heartbeat gone and retries it,
on whichever worker is free; the launcher records the killed try as abandoned and runs the
node again. The run must still leave what the local runner leaves, and the next DAG run must
reuse everything.

The model is never blessed here (``PENGUIN_MIN_ACCURACY`` above 1): a blessed model becomes
the next run's baseline, which changes the Evaluator's inputs, so a second run could not be
fully cached; the Pusher is skipped by its condition in every run.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("headrace_evaluator", reason="needs every component package installed")

from headrace_core.metadata import (
    EVENT_INPUT,
    EVENT_OUTPUT,
    RUN_CONTEXT,
    MetadataStore,
    custom,
    run_context_name,
)
from headrace_core.testing import (
    assert_store_consistent,
    mysql_required,
    mysql_unavailable,
    new_mysql_database_url,
)

HERE = Path(__file__).resolve().parent
INTEGRATION = HERE.parent
for folder in (HERE, INTEGRATION):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from _celery import CeleryAirflow, celery_unavailable  # noqa: E402
from _sockets import listening_addresses  # noqa: E402
from conformance.snapshot import run_snapshot, without  # noqa: E402
from penguin_example import NODES, RESOLVER  # noqa: E402

pytestmark = pytest.mark.own_stores

PIPELINE = INTEGRATION.parent / "examples" / "penguin" / "pipeline.py"
DAG_ID = "penguin"
WORKERS = ("worker-a", "worker-b")
KILLED_NODE = "Trainer"
FINISH_TASK = "headrace_finish_run"
PENGUIN_ENV = {
    "PENGUIN_TRAIN_STEPS": "10",
    # Never blessed: the next run's Evaluator has no new baseline, so it can be cached.
    "PENGUIN_MIN_ACCURACY": "1.01",
}
# Outputs whose bytes differ between any two runs, local ones included (see
# integration_tests/ml/test_penguin_orchestrators.py).
TRAINING_DEPENDENT = {
    "Transform.transform_graph",
    "Transform.transformed_examples",
    "Transform.updated_analyzer_cache",
    "Trainer.model",
    "Trainer.model_run",
    "Evaluator.evaluation",
    "Evaluator.blessing",
}
RUNNING, COMPLETE, FAILED = 2, 3, 4
LIVE = 2


def _unavailable() -> None:
    reason = celery_unavailable() or mysql_unavailable()
    if reason is None:
        return
    if mysql_required():
        pytest.fail(f"the Celery deployment is required here (CI): {reason}")
    pytest.skip(reason)


@dataclass
class Penguin:
    """The pipeline as deployed: its shared root, its store and its compiled DAG."""

    root: Path
    metadata: str
    dags: Path
    env: dict[str, str]

    def store(self) -> MetadataStore:
        return MetadataStore(self.metadata)


@dataclass
class LocalRun:
    root: Path
    started: float
    process: subprocess.Popen[str]


@dataclass
class DagRun:
    run_id: str
    state: str
    seconds: float
    tries: list[dict[str, Any]]
    killed_worker: str | None = None
    killed_pid: int | None = None
    notes: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> Penguin:
    _unavailable()
    base = tmp_path_factory.mktemp("celery-penguin")
    shared = base / "shared"
    setup = Penguin(
        root=shared / "penguin-root",
        metadata=new_mysql_database_url("celery_penguin"),
        dags=shared / "dags",
        env={**PENGUIN_ENV, "PENGUIN_ROOT": str(shared / "penguin-root")},
    )
    setup.dags.mkdir(parents=True)
    options = {
        "dag_id": DAG_ID,
        "python": sys.executable,  # the pipeline's environment, the same on every worker
        "metadata": setup.metadata,
        "retries": 1,
        "retry_delay_seconds": 1,
    }
    argv = [sys.executable, "-m", "headrace_core.cli", "compile", str(PIPELINE)]
    argv += ["--target", "airflow", "-o", str(setup.dags / "penguin_dag.py")]
    argv += [part for k, v in options.items() for part in ("--option", f"{k}={v}")]
    compiled = subprocess.run(
        argv,
        env={**os.environ, **setup.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    setup.store()  # creates the database and MLMD's schema before any node does
    return setup


@pytest.fixture(scope="module")
def deployment(
    penguin: Penguin, local_run: LocalRun, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CeleryAirflow]:
    server = os.environ["HEADRACE_TEST_MYSQL"].strip()
    airflow = CeleryAirflow(
        python=os.environ["HEADRACE_AIRFLOW_CELERY_PYTHON"].strip(),
        base=tmp_path_factory.mktemp("celery-deployment"),
        server=server,
        dags_folder=penguin.dags,
    )
    # (local_run: the reference run is started first, and goes on meanwhile.)
    try:
        airflow.start(WORKERS)
        airflow.wait_for_dag(DAG_ID)
        yield airflow
    finally:
        airflow.stop()


def _wait_for_running(penguin: Penguin, airflow: CeleryAirflow, run_id: str) -> tuple[str, int]:
    """The worker running ``KILLED_NODE`` and its node's pid, once its execution is RUNNING."""
    store = penguin.store()
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        running = [
            e
            for e in store.call("get_executions")
            if custom(e, "node_id") == KILLED_NODE and e.last_known_state == RUNNING
        ]
        rows = airflow.sql(
            "SELECT hostname FROM task_instance WHERE dag_id = %s AND run_id = %s "
            "AND task_id = %s AND state = 'running'",
            DAG_ID,
            run_id,
            KILLED_NODE,
        )
        if running and rows and rows[0]["hostname"] in airflow.workers:
            return str(rows[0]["hostname"]), int(custom(running[0], "pid"))
        state = airflow.dag_run_state(DAG_ID, run_id)
        assert state not in ("success", "failed"), (
            f"DAG run {run_id} ended {state} before {KILLED_NODE} was seen running:\n"
            + airflow.describe(DAG_ID, run_id)
        )
        time.sleep(0.3)
    raise AssertionError(f"{KILLED_NODE} never ran:\n{airflow.describe(DAG_ID, run_id)}")


def _dag_run(
    airflow: CeleryAirflow, run_id: str, during: Callable[[DagRun], None] | None = None
) -> DagRun:
    began = time.monotonic()
    airflow.trigger(DAG_ID, run_id, {"headrace_run_id": run_id})
    run = DagRun(run_id, "", 0.0, [])
    if during is not None:
        during(run)
    run.state = airflow.wait_for_dag_run(DAG_ID, run_id, timeout=600)
    run.seconds = time.monotonic() - began
    run.tries = airflow.task_tries(DAG_ID, run_id)
    assert run.state == "success", airflow.describe(DAG_ID, run_id)
    return run


@pytest.fixture(scope="module")
def first_run(penguin: Penguin, deployment: CeleryAirflow) -> DagRun:
    def kill_the_trainers_worker(run: DagRun) -> None:
        worker, pid = _wait_for_running(penguin, deployment, run.run_id)
        groups = deployment.workers[worker].kill()
        deployment.workers[worker].process.wait(timeout=30)
        run.killed_worker, run.killed_pid = worker, pid
        run.notes.append(f"SIGKILLed {worker} ({len(groups)} process groups) mid-{KILLED_NODE}")
        # Its replacement, as a supervisor would start (same name and working directory).
        deployment.start_worker(worker)

    return _dag_run(deployment, "celery-1", during=kill_the_trainers_worker)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """The local runner's run of the same pipeline (in-process, SQLite), as the conformance
    suite's ``local_in_process`` driver runs it, but started in the background: it shares the
    two cores with the deployment, whose processes mostly wait on each other."""
    _unavailable()
    base = tmp_path_factory.mktemp("celery-local")
    (base / "work").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HEADRACE_METADATA"}
    env.update(PENGUIN_ENV, PENGUIN_ROOT=str(base / "root"))
    run = LocalRun(
        base / "root",
        time.monotonic(),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "headrace_core.cli",
                "run",
                str(PIPELINE),
                "--json",
                "--isolation",
                "in-process",
            ],
            cwd=base / "work",
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ),
    )
    try:
        yield run
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.process.pid, signal.SIGKILL)
        run.process.communicate()


@pytest.fixture(scope="module")
def reference(local_run: LocalRun) -> tuple[dict[str, Any], float]:
    """What the local run left, as a snapshot, and how long it took."""
    out, err = local_run.process.communicate(timeout=900)
    seconds = time.monotonic() - local_run.started
    log = f"exit {local_run.process.returncode}\n{out[-3000:]}\n{err[-5000:]}"
    try:
        result = json.loads(out)
    except json.JSONDecodeError as e:
        raise AssertionError(f"headrace run printed no JSON result:\n{log}") from e
    assert local_run.process.returncode == 0 and result["succeeded"], log
    return run_snapshot(local_run.root, "penguin", result["run_id"]), seconds


def _comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    snapshot = without(snapshot, "uri")
    for key, output in snapshot["outputs"].items():
        if key in TRAINING_DEPENDENT:
            output.pop("fingerprint")
    return snapshot


def _timeline(run: DagRun) -> str:
    """Each try, in start order: task@worker, seconds queued, seconds running."""

    def at(value: Any) -> datetime.datetime | None:
        return datetime.datetime.fromisoformat(str(value)) if value else None

    parts = []
    for t in sorted(run.tries, key=lambda t: str(t["start_date"])):
        queued, start, end = at(t["queued_dttm"]), at(t["start_date"]), at(t["end_date"])
        waited = f"{(start - queued).total_seconds():.0f}" if start and queued else "?"
        took = f"{(end - start).total_seconds():.0f}" if end and start else "?"
        parts.append(f"{t['task_id']}#{t['try_number']}@{t['hostname']} q{waited} r{took}")
    return "; ".join(parts)


def _node_tries(run: DagRun) -> list[dict[str, Any]]:
    return [t for t in run.tries if t["task_id"] != FINISH_TASK]


def test_the_deployment_listens_on_loopback_only(
    deployment: CeleryAirflow, measurement: Callable[[str], None]
) -> None:
    measurement(
        "celery: deployment start-up "
        + ", ".join(f"{k} {v:.1f} s" for k, v in deployment.startup_seconds.items())
    )
    addresses = listening_addresses(deployment.pids())
    assert addresses, "Redis is not listening"
    assert {a.rsplit(":", 1)[0] for a in addresses} == {"127.0.0.1"}, addresses


def test_nodes_ran_on_several_workers_and_the_killed_node_once(
    penguin: Penguin,
    deployment: CeleryAirflow,
    first_run: DagRun,
    measurement: Callable[[str], None],
) -> None:
    tries = _node_tries(first_run)
    assert {t["task_id"] for t in tries} == set(NODES)
    finals = {t["task_id"]: t for t in tries if t["state"] in ("success", "skipped")}
    assert set(finals) == set(NODES), tries
    assert finals["Pusher"]["state"] == "skipped"  # never blessed (PENGUIN_MIN_ACCURACY)
    per_worker = Counter(t["hostname"] for t in finals.values())
    for worker in WORKERS:
        names = sorted(n for n, t in finals.items() if t["hostname"] == worker)
        measurement(f"celery: {worker} ran {per_worker[worker]} nodes: {', '.join(names)}")
    measurement(f"celery: {'; '.join(first_run.notes)}")
    measurement(f"celery: first DAG run, tries (q: s queued, r: s running): {_timeline(first_run)}")
    assert set(per_worker) <= set(WORKERS), per_worker
    assert len(per_worker) > 1, f"every node ran on one worker: {per_worker}"

    # The killed try, then the retry that ran it to the end.
    # (Airflow 2.10+ may count a try when it schedules a task: compare order, not numbers.)
    trainer = [t for t in tries if t["task_id"] == KILLED_NODE]
    assert len(trainer) == 2, trainer
    assert trainer[0]["hostname"] == first_run.killed_worker
    assert trainer[0]["state"] == "failed" and trainer[1]["state"] == "success", trainer
    # Failed by the scheduler, as a task whose worker went silent (Airflow 2's "zombie").
    assert deployment.scheduler is not None
    zombies = [
        line
        for line in deployment.scheduler.log.read_text(errors="replace").splitlines()
        if "Detected zombie job" in line
    ]
    assert any(f"'Task Id': '{KILLED_NODE}'" in line for line in zombies), zombies
    assert not Path(f"/proc/{first_run.killed_pid}").exists(), "the killed node lives on"

    store = penguin.store()
    ctx = store.get_context(RUN_CONTEXT, run_context_name("penguin", first_run.run_id))
    assert ctx is not None
    executions = store.executions_in_context(ctx.id, newest_first=False)
    ran = [e for e in executions if custom(e, "node_id") == KILLED_NODE]
    assert [(e.last_known_state, custom(e, "status")) for e in ran] == [
        (FAILED, "abandoned"),
        (COMPLETE, "complete"),
    ]
    events = store.events([e.id for e in executions])
    outputs = {
        ev.artifact_id
        for ev in events
        if ev.type == EVENT_OUTPUT and ev.execution_id in {e.id for e in ran}
    }
    produced = store.artifacts(outputs)
    assert sorted(store.artifact_type_name(a.type_id) for a in produced) == ["Model", "ModelRun"]
    assert all(a.state == LIVE for a in produced)
    model = next(a for a in produced if store.artifact_type_name(a.type_id) == "Model")
    evaluator = {e.id for e in executions if custom(e, "node_id") == "Evaluator"}
    assert {
        ev.artifact_id for ev in events if ev.type == EVENT_INPUT and ev.execution_id in evaluator
    } >= {model.id}
    assert_store_consistent(store, penguin.root, settled=True)


def test_the_result_equals_the_local_runs(
    penguin: Penguin,
    first_run: DagRun,
    reference: tuple[dict[str, Any], float],
    monkeypatch: pytest.MonkeyPatch,
    measurement: Callable[[str], None],
) -> None:
    local, local_seconds = reference
    monkeypatch.setenv("HEADRACE_METADATA", penguin.metadata)
    snapshot = _comparable(run_snapshot(penguin.root, "penguin", first_run.run_id))
    # The killed try is the one difference the kill may leave: compare the rest.
    abandoned = [e for e in snapshot["executions"][KILLED_NODE] if e["status"] == "abandoned"]
    assert len(abandoned) == 1
    snapshot["executions"][KILLED_NODE].remove(abandoned[0])
    assert snapshot == _comparable(local)
    measurement(
        f"celery: penguin's first DAG run (a worker killed, {KILLED_NODE} retried) "
        f"{first_run.seconds:.0f} s; the local runner, in-process, {local_seconds:.0f} s"
    )


def test_a_second_dag_run_is_fully_cached(
    penguin: Penguin,
    deployment: CeleryAirflow,
    first_run: DagRun,
    measurement: Callable[[str], None],
) -> None:
    second = _dag_run(deployment, "celery-2")
    per_worker = Counter(t["hostname"] for t in _node_tries(second))
    measurement(
        f"celery: the cached DAG run took {second.seconds:.0f} s; nodes per worker: "
        + ", ".join(f"{w} {per_worker[w]}" for w in WORKERS)
    )
    measurement(f"celery: cached DAG run, tries: {_timeline(second)}")
    store = penguin.store()
    ctx = store.get_context(RUN_CONTEXT, run_context_name("penguin", second.run_id))
    assert ctx is not None
    statuses = {
        str(custom(e, "node_id")): custom(e, "status")
        for e in store.executions_in_context(ctx.id, newest_first=False)
    }
    # A resolver resolves again every run; the Pusher's condition is false again.
    expected = {**dict.fromkeys(NODES, "cached"), RESOLVER: "complete"}
    expected["Pusher"] = "skipped"
    assert statuses == expected
    assert_store_consistent(store, penguin.root, settled=True)
