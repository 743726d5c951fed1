"""Drive a local Apache Airflow installation from the headrace environment.

Airflow lives in its own virtual environment (``HEADRACE_AIRFLOW_PYTHON`` names its
interpreter): this module only starts ``python -m airflow ...`` there, with an
``AIRFLOW_HOME`` of its own (SQLite, no example DAGs) and a DAG folder holding only the DAG
files it is given. The runner, the tests, the conformance driver and the benchmark use it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headrace_core.errors import HeadraceError

__all__ = ["AIRFLOW_PYTHON_ENV", "LocalAirflow", "airflow_python_from_env"]

#: The environment variable naming the interpreter of the Airflow environment.
AIRFLOW_PYTHON_ENV = "HEADRACE_AIRFLOW_PYTHON"

_TAIL = 60


def airflow_python_from_env() -> str | None:
    value = os.environ.get(AIRFLOW_PYTHON_ENV, "").strip()
    return value or None


def _tail(text: str, lines: int = _TAIL) -> str:
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class LocalAirflow:
    """One Airflow installation (``python``) with one home directory (``home``)."""

    python: str
    home: Path
    dags_folder: Path | None = None
    #: More environment variables for every Airflow process (and so for the nodes).
    extra_env: Mapping[str, str] = field(default_factory=dict)
    _version: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.home = Path(self.home)
        if self.dags_folder is None:
            self.dags_folder = self.home / "dags"
        if not os.path.isfile(self.python):
            raise HeadraceError(
                f"the Airflow interpreter {self.python!r} does not exist "
                f"(set {AIRFLOW_PYTHON_ENV} to the python of an environment with apache-airflow)"
            )

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                # Both parse DAG files in-process here; a short timeout only causes flakes.
                "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
                "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
                "PYTHONWARNINGS": "ignore",
            }
        )
        env.update(self.extra_env)
        env.update(extra or {})
        return env

    def airflow(
        self,
        *args: str,
        check: bool = True,
        timeout: float | None = None,
        stdin: Any = subprocess.DEVNULL,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``python -m airflow ARGS``: stdout and stderr together in ``.stdout``."""
        proc = subprocess.run(
            [self.python, "-m", "airflow", *args],
            env=self.env(extra_env),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise HeadraceError(
                f"airflow {' '.join(args)} exited with status {proc.returncode}:\n"
                + _tail(proc.stdout)
            )
        return proc

    def version(self) -> str:
        if self._version is None:
            self._version = self.airflow("version").stdout.strip().splitlines()[-1]
        return self._version

    def major_version(self) -> int:
        return int(self.version().split(".")[0])

    def ensure_database(self) -> None:
        """Create the home and its SQLite database once (``airflow db migrate``)."""
        self.home.mkdir(parents=True, exist_ok=True)
        assert self.dags_folder is not None
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        if not (self.home / "airflow.db").exists():
            self.airflow("db", "migrate")

    def import_errors(self) -> str:
        """What ``airflow dags list-import-errors`` reports for the files of the DAG folder:
        "" when every one loads.

        The command exits 0 either way; its output is what tells. Airflow 2 parses the folder
        itself; Airflow 3 lists what parsing recorded in its database, so the folder is parsed
        first (``airflow dags reserialize``)."""
        quiet = {"AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}
        if self.major_version() >= 3:
            self.airflow("dags", "reserialize", check=False, extra_env=quiet)
        proc = self.airflow(
            "dags", "list-import-errors", "--output", "json", check=False, extra_env=quiet
        )
        assert self.dags_folder is not None
        ours = {p.name for p in self.dags_folder.rglob("*.py")}
        text = proc.stdout.strip()
        for line in reversed([raw.strip() for raw in text.splitlines()]):
            if not (line.startswith("[") and line.endswith("]")):
                continue
            try:
                errors = json.loads(line)
            except ValueError:
                continue  # a log line, not the table
            return "\n".join(
                f"{e.get('filepath')}: {e.get('error')}"
                for e in errors
                # The database may remember files of other folders (Airflow 3).
                if Path(str(e.get("filepath"))).name in ours
            )
        if proc.returncode == 0 and ("no data found" in text.lower() or not text):
            return ""
        return _tail(text) or f"airflow dags list-import-errors exited {proc.returncode}"

    def _script(self, script: str, *args: str) -> Any:
        """Run ``script`` with the Airflow interpreter; it prints one JSON line at the end."""
        proc = subprocess.run(
            [self.python, "-c", script, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise HeadraceError(_tail(proc.stderr or proc.stdout))
        return json.loads(lines[-1])

    def load_dag(
        self, dag_file: Path, dag_id: str, *, forbidden: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The DAG as Airflow's DagBag loads it from ``dag_file``: tasks, edges, settings.

        Importing any module named in ``forbidden`` (top-level names) fails while it loads."""
        try:
            loaded: dict[str, Any] = self._script(
                _LOAD_DAG_SCRIPT, str(dag_file), dag_id, ",".join(forbidden)
            )
        except HeadraceError as e:
            raise HeadraceError(f"Airflow could not load {dag_file}:\n{e}") from None
        return loaded

    def dag_runs(self, dag_id: str) -> dict[str, Any]:
        """Every DAG run of ``dag_id`` in this home: run id -> state, conf and task states."""
        runs: dict[str, Any] = self._script(_DAG_RUNS_SCRIPT, dag_id)
        return runs

    def dags_test(
        self,
        dag_id: str,
        *,
        logical_date: str | None = None,
        conf: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """One DAG run in this process, no scheduler (``airflow dags test``); exit status 1
        when the DAG run failed."""
        args = ["dags", "test", dag_id]
        if logical_date:
            args.append(logical_date)
        if conf:
            args += ["--conf", json.dumps(dict(conf), sort_keys=True)]
        return self.airflow(*args, check=False, timeout=timeout)

    def popen(self, args: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
        """``python -m airflow ARGS`` started, not waited for; its output goes to ``log``."""
        with open(log, "wb") as out:
            return subprocess.Popen(
                [self.python, "-m", "airflow", *args],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )


# Run with the Airflow interpreter: prints the loaded DAG as one JSON line.
_LOAD_DAG_SCRIPT = r"""
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow 3
except ImportError:
    from airflow.models.dagbag import DagBag  # Airflow 2
path, dag_id, forbidden = sys.argv[1], sys.argv[2], set(filter(None, sys.argv[3].split(",")))


class Forbid:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in forbidden:
            raise ImportError(f"the DAG file imported {name!r}, which it must not need")
        return None


sys.meta_path.insert(0, Forbid())
try:
    bag = DagBag(dag_folder=path, include_examples=False)
except TypeError:  # Airflow 3: no example DAGs to leave out
    bag = DagBag(dag_folder=path)
if bag.import_errors:
    for file, error in bag.import_errors.items():
        print(f"{file}: {error}", file=sys.stderr)
    sys.exit(1)
dag = bag.get_dag(dag_id) if hasattr(bag, "get_dag") else bag.dags[dag_id]
if dag is None:
    print(f"no DAG {dag_id!r} in {path}; found {sorted(bag.dags)}", file=sys.stderr)
    sys.exit(1)
timetable = getattr(dag, "timetable", None)
schedule = next(
    (
        value
        for value in (
            getattr(dag, "schedule", None),  # Airflow 3
            getattr(dag, "schedule_interval", None),  # Airflow 2
            getattr(timetable, "summary", None),
        )
        if isinstance(value, str)
    ),
    None,
)
print(json.dumps({
    "dag_id": dag.dag_id,
    "tasks": {
        t.task_id: {
            "upstream": sorted(t.upstream_task_ids),
            "retries": t.retries,
            "retry_delay": t.retry_delay.total_seconds(),
            "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
            "execution_timeout": (
                t.execution_timeout.total_seconds() if t.execution_timeout else None
            ),
            "operator": type(t).__name__,
        }
        for t in dag.tasks
    },
    "schedule": schedule,
    "start_date": dag.start_date.isoformat() if dag.start_date else None,
    "catchup": dag.catchup,
    "tags": sorted(dag.tags or []),
    "max_active_runs": dag.max_active_runs,
    "max_active_tasks": dag.max_active_tasks,
}, sort_keys=True))
"""

_DAG_RUNS_SCRIPT = r"""
import json, sys
from airflow.models import DagRun
from airflow.utils.session import create_session


def text(state):
    return None if state is None else str(getattr(state, "value", state))


with create_session() as session:
    runs = session.query(DagRun).filter(DagRun.dag_id == sys.argv[1]).all()
    print(json.dumps({
        dr.run_id: {
            "state": text(dr.state),
            "conf": dr.conf or {},
            "tasks": {
                ti.task_id: text(ti.state) for ti in dr.get_task_instances(session=session)
            },
        }
        for dr in runs
    }, sort_keys=True))
"""
