"""A real Airflow deployment with the CeleryExecutor on this machine, for the distributed tests.

Debian's ``redis-server`` is the broker; Airflow's own database (and Celery's result backend) is
a fresh database on the MariaDB test server (``HEADRACE_TEST_MYSQL``) through PyMySQL; the
scheduler and each Celery worker are separate processes, each in its own process group with
its own working directory, which is also its ``AIRFLOW_HOME`` (its logs live there), as on
separate machines that share only the DAG folder, the broker and the databases. Everything
listens on 127.0.0.1 only; the Airflow webserver is not started.

Airflow lives in an environment of its own (``HEADRACE_AIRFLOW_CELERY_PYTHON``, made from
``packages/airflow/tests/airflow2-celery-requirements.txt``; ``nox -s distributed`` sets it).

Each worker reports its Celery hostname as Airflow's hostname (``[core] hostname_callable``),
so a task instance's ``hostname`` names the worker that ran it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _sockets import free_port

__all__ = [
    "ENV_CELERY_PYTHON",
    "CeleryAirflow",
    "Service",
    "celery_unavailable",
]

#: The interpreter of an Airflow 2 environment with the Celery provider and PyMySQL.
ENV_CELERY_PYTHON = "HEADRACE_AIRFLOW_CELERY_PYTHON"

_WORKER_ENV = "HRCELERY_WORKER_NAME"
# A throw-away broker: loopback only, no persistence.
_REDIS_FLAGS = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")
# One task at a time; no log server (it would listen on every interface); no start-up chatter.
_WORKER = ("--concurrency", "1", "--skip-serve-logs", "--without-mingle", "--without-gossip")
# On each process's sys.path through AIRFLOW_HOME/config: Airflow's hostname for a worker is
# its Celery hostname; for anything else, the usual one.
_HOSTNAME_MODULE = f'''
import os, socket


def hostname():
    return os.environ.get("{_WORKER_ENV}") or socket.getfqdn()
'''

# Run with the Airflow interpreter (PyMySQL, no Airflow import: a tenth of a second):
# the URL in the environment (a password stays off command lines), argv = statement, JSON
# parameters; prints the rows as one JSON list.
_SQL_SCRIPT = r"""
import json, os, sys, urllib.parse
import pymysql
url = urllib.parse.urlparse(os.environ["HRCELERY_SQL_URL"])
connection = pymysql.connect(
    host=url.hostname, port=url.port or 3306, user=urllib.parse.unquote(url.username or ""),
    password=urllib.parse.unquote(url.password or ""), database=url.path.lstrip("/") or None,
    cursorclass=pymysql.cursors.DictCursor, autocommit=True,
)
with connection.cursor() as cursor:
    cursor.execute(sys.argv[1], json.loads(sys.argv[2]) or None)
    rows = cursor.fetchall() if cursor.description else []
print(json.dumps(list(rows), default=str))
"""


def celery_unavailable() -> str | None:
    """Why this machine cannot run the deployment, or None when it can."""
    python = os.environ.get(ENV_CELERY_PYTHON, "").strip()
    if not python:
        return (
            f"{ENV_CELERY_PYTHON} is not set: make an Airflow environment (uv pip install -r "
            "packages/airflow/tests/airflow2-celery-requirements.txt) and set it to its python "
            "(nox -s distributed does)"
        )
    if not os.path.isfile(python):
        return f"{ENV_CELERY_PYTHON}={python} does not exist"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (Debian: apt-get install redis-server)"
    return None


def _tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as f:
            # The command name may hold spaces and parentheses; the fields follow the last ")".
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def _groups(pids: Iterable[int]) -> set[int]:
    groups = set()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(pid))
    return groups


@dataclass
class Service:
    """One process of the deployment, leader of its own process group."""

    name: str
    cwd: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.cwd / f"{self.name}.log"

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self, sig: int = signal.SIGKILL) -> set[int]:
        """Signal the process group and the group of every process it started: Airflow runs
        each task in a process group of its own, and a node in another, so only this is what
        a machine that died does to them. Returns the groups signalled."""
        groups = _groups(_tree(self.process.pid)) | {self.process.pid}
        # Its own group first: a task's supervisor that outlived its task would record the
        # failure itself, which no dead machine does.
        for group in sorted(groups, key=lambda g: g != self.process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
        return groups

    def stop(self, grace: float = 10.0) -> None:
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        self.kill(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@dataclass
class CeleryAirflow:
    """Redis, a scheduler and Celery workers under ``base``, on the MariaDB server ``server``
    (``mysql://user[:password]@host:port``, no database)."""

    python: str
    base: Path
    server: str
    dags_folder: Path
    #: Seconds without a task's heartbeat before the scheduler fails it (a dead worker's task).
    zombie_threshold: int = 15
    database: str = field(
        default_factory=lambda: f"hrt_airflow_{os.getpid()}_{os.urandom(3).hex()}"
    )
    redis: Service | None = field(default=None, init=False)
    scheduler: Service | None = field(default=None, init=False)
    workers: dict[str, Service] = field(default_factory=dict, init=False)
    startup_seconds: dict[str, float] = field(default_factory=dict, init=False)
    _redis_port: int = field(default=0, init=False)

    # --- configuration -------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        """The database's URL, ``mysql://`` form (for :meth:`sql`)."""
        parsed = urllib.parse.urlparse(self.server)
        return urllib.parse.urlunparse(parsed._replace(path="/" + self.database))

    def _sqlalchemy_url(self) -> str:
        return "mysql+pymysql" + self.database_url[self.database_url.index("://") :]

    def env(self, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "HEADRACE_", "PYTHON", "VIRTUAL_ENV"))
        }
        sql = self._sqlalchemy_url()
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "headrace_celery_host.hostname",
                "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql,
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self._redis_port}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{sql}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
                # A dead worker's task is the scheduler's to fail and retry, never redelivered.
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "86400",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                # A hop from one task to the next: about 2.5 s instead of 5-6 (measured here
                # on a 6-task chain of no-op tasks): the scheduler, not each finished task,
                # schedules what comes next, and it waits less between idle loops.
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__SCHEDULER__SCHEDULE_AFTER_TASK_EXECUTION": "False",
                "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__LOCAL_TASK_JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD": str(self.zombie_threshold),
                "AIRFLOW__SCHEDULER__ZOMBIE_DETECTION_INTERVAL": "2",
                "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__PARSING_PROCESSES": "1",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
                "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
                "PYTHONWARNINGS": "ignore",
            }
        )
        env.update(extra or {})
        return env

    def _home(self, name: str) -> Path:
        home = self.base / name
        (home / "config").mkdir(parents=True, exist_ok=True)
        (home / "config" / "headrace_celery_host.py").write_text(_HOSTNAME_MODULE)
        return home

    # --- commands ------------------------------------------------------------------------
    def airflow(self, *args: str, timeout: float = 120) -> str:
        """``airflow ARGS`` from the scheduler's home; its output, or an error with it."""
        home = self._home("scheduler")
        proc = subprocess.run(
            [self.python, "-m", "airflow", *args],
            cwd=home,
            env=self.env(home),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n"
                f"{proc.stderr[-3000:]}"
            )
        return proc.stdout

    def sql(self, statement: str, *params: Any, database: bool = True) -> list[dict[str, Any]]:
        url = self.database_url if database else self.server
        proc = subprocess.run(
            [self.python, "-c", _SQL_SCRIPT, statement, json.dumps(list(params))],
            env={**os.environ, "HRCELERY_SQL_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"SQL {statement!r} failed on {self.database}: {proc.stderr}")
        rows: list[dict[str, Any]] = json.loads(proc.stdout)
        return rows

    # --- life cycle ----------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], home: Path, env: Mapping[str, str]) -> Service:
        with open(home / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                argv,
                cwd=home,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Service(name, home, process)

    def _wait(self, what: str, ready: Any, services: Iterable[Service], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for service in services:
                if service.process.poll() is not None:
                    raise RuntimeError(
                        f"{service.name} exited while waiting for {what}:\n{service.tail()}"
                    )
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {s.name}\n{s.tail()}" for s in services)
                raise RuntimeError(f"no {what} after {timeout} s:\n{tails}")
            time.sleep(0.3)

    def start(self, workers: Iterable[str]) -> None:
        """Redis, the database, the scheduler and one Celery worker per name, each timed."""
        began = time.monotonic()
        redis_dir = self.base / "redis"
        redis_dir.mkdir(parents=True)
        self._redis_port = free_port()
        self.redis = self._spawn(
            "redis",
            [
                "redis-server",
                *_REDIS_FLAGS,
                "--port",
                str(self._redis_port),
                "--dir",
                str(redis_dir),
            ],
            redis_dir,
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        self.sql(
            f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            database=False,
        )
        self.startup_seconds["redis and database"] = time.monotonic() - began
        mark = time.monotonic()
        self.airflow("db", "migrate")
        self.startup_seconds["airflow db migrate"] = time.monotonic() - mark
        mark = time.monotonic()
        home = self._home("scheduler")
        self.scheduler = self._spawn(
            "scheduler",
            [self.python, "-m", "airflow", "scheduler", "--skip-serve-logs"],
            home,
            self.env(home),
        )
        for name in workers:
            self.start_worker(name, wait=False)
        self._wait(
            "ready Celery workers",
            lambda: all(f"celery@{n} ready." in w.tail(400) for n, w in self.workers.items()),
            [self.scheduler, *self.workers.values()],
            timeout=120,
        )
        self._wait(
            "running scheduler",
            lambda: bool(
                self.sql("SELECT id FROM job WHERE job_type = 'SchedulerJob' AND state = 'running'")
            ),
            [self.scheduler],
            timeout=120,
        )
        self.startup_seconds["scheduler and workers ready"] = time.monotonic() - mark
        self.startup_seconds["total"] = time.monotonic() - began

    def start_worker(self, name: str, *, wait: bool = True) -> Service:
        """A Celery worker, one task at a time, named ``name`` in Celery and in Airflow."""
        home = self._home(name)
        worker = self._spawn(
            name,
            [self.python, "-m", "airflow", "celery", "worker", "--celery-hostname", name, *_WORKER],
            home,
            self.env(home, {_WORKER_ENV: name}),
        )
        self.workers[name] = worker
        if wait:
            self._wait(
                f"ready worker {name}",
                lambda: f"celery@{name} ready." in worker.tail(400),
                [worker],
                timeout=120,
            )
        return worker

    def services(self) -> list[Service]:
        return [s for s in (self.redis, self.scheduler, *self.workers.values()) if s is not None]

    def pids(self) -> list[int]:
        """Every live process of the deployment (tasks and nodes included)."""
        return [pid for s in self.services() for pid in _tree(s.process.pid)]

    def stop(self) -> None:
        """Stop every process group it started, then drop its database."""
        for service in [*self.workers.values(), self.scheduler, self.redis]:
            if service is not None:
                service.stop()
        with contextlib.suppress(Exception):
            self.sql(f"DROP DATABASE IF EXISTS `{self.database}`", database=False)

    # --- DAG runs ------------------------------------------------------------------------
    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        """Until the scheduler has parsed ``dag_id`` and it can be triggered."""
        self._wait(
            f"DAG {dag_id} parsed",
            lambda: bool(
                self.sql(
                    "SELECT d.dag_id FROM dag d JOIN serialized_dag s ON s.dag_id = d.dag_id "
                    "WHERE d.dag_id = %s AND d.is_paused = 0",
                    dag_id,
                )
            ),
            [self.scheduler] if self.scheduler else [],
            timeout,
        )

    def trigger(self, dag_id: str, run_id: str, conf: Mapping[str, Any]) -> None:
        self.airflow("dags", "trigger", dag_id, "--run-id", run_id, "--conf", json.dumps(conf))

    def dag_run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.sql(
            "SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", dag_id, run_id
        )
        return rows[0]["state"] if rows else None

    def wait_for_dag_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """The DAG run's final state (success or failed)."""
        deadline = time.monotonic() + timeout
        while (state := self.dag_run_state(dag_id, run_id)) not in ("success", "failed"):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"DAG run {run_id} still {state} after {timeout} s:\n"
                    f"{self.describe(dag_id, run_id)}"
                )
            time.sleep(1)
        return str(state)

    def task_tries(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every try of every task of a DAG run: task_id, try_number, state, hostname (the
        worker), queued_dttm, start_date, end_date (UTC, "YYYY-MM-DD HH:MM:SS.ffffff"),
        earlier tries from Airflow's task instance history included."""
        columns = "task_id, try_number, state, hostname, queued_dttm, start_date, end_date"
        where = "WHERE dag_id = %s AND run_id = %s"
        rows = self.sql(f"SELECT {columns} FROM task_instance_history {where}", dag_id, run_id)
        rows += self.sql(f"SELECT {columns} FROM task_instance {where}", dag_id, run_id)
        return sorted(rows, key=lambda r: (r["task_id"], r["try_number"]))

    def task_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        """Every try's log of a task, from every worker's log folder."""
        found = []
        for worker in self.workers.values():
            folder = worker.cwd / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
            for path in sorted(folder.glob(f"task_id={task_id}/attempt=*.log")):
                text = path.read_text(errors="replace")
                found.append(f"--- {worker.name} {path.name}\n{text[-4000:]}")
        return "\n".join(found)

    def describe(self, dag_id: str, run_id: str) -> str:
        """The tasks' tries, the logs of those that did not succeed and the services' last
        lines, for a failure message."""
        tries = self.task_tries(dag_id, run_id)
        lines = [json.dumps(t, sort_keys=True) for t in tries]
        failed = {t["task_id"] for t in tries if t["state"] not in ("success", "skipped")}
        lines += [self.task_log(dag_id, run_id, task_id) for task_id in sorted(failed)]
        lines += [f"--- {s.name} (exit {s.process.poll()})\n{s.tail(25)}" for s in self.services()]
        return "\n".join(lines)
