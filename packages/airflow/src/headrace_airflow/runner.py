"""``headrace run PIPELINE_FILE --orchestrator airflow``: one DAG run on a local Airflow.

The pipeline is compiled to a DAG file in an Airflow home of its own and run once with
``airflow dags test`` (every task in one Airflow process, no scheduler), in the Airflow
environment named by ``--orchestrator-arg=airflow_python=PATH`` or ``HEADRACE_AIRFLOW_PYTHON``.
The headrace run id is passed in the DAG run's conf, so it is the one this runner reports; the
node outcomes are read back from ML Metadata.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from headrace_airflow.compiler import OPTIONS, compile_dag, parse_options
from headrace_airflow.local import AIRFLOW_PYTHON_ENV, LocalAirflow, airflow_python_from_env
from headrace_core.errors import HeadraceError
from headrace_core.metadata import (
    ENV_METADATA_PASSWORD,
    MetadataStore,
    child_environment,
    conceal,
)
from headrace_core.runtime import (
    NodeEvent,
    PipelineLayout,
    RunResult,
    RunSession,
    Status,
    close_run,
    new_run_id,
    open_run,
    pipeline_metadata_url,
)

__all__ = ["AIRFLOW_PYTHON_ENV", "RUNNER_OPTIONS", "AirflowRunner", "collect_result"]

#: Runner settings (``--orchestrator-arg=KEY=VALUE``); every compile option is accepted too.
RUNNER_OPTIONS = {
    "airflow_python": f"interpreter of the Airflow environment (default: ${AIRFLOW_PYTHON_ENV})",
    "airflow_home": "AIRFLOW_HOME to use (default: <pipeline_root>/.headrace/airflow)",
    "timeout_seconds": "give up on the DAG run after this long (default: no limit)",
}
# What the DAG file accepts as dag_run.conf["headrace_run_id"].
_RUN_ID = re.compile(r"^[A-Za-z0-9._:+\-~]{1,250}$")


def _parse_runner_options(options: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    own: dict[str, str] = {}
    compile_options: dict[str, str] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise HeadraceError(f"--orchestrator-arg {item!r}: expected KEY=VALUE")
        if key in RUNNER_OPTIONS:
            own[key] = value
        elif key in OPTIONS:
            compile_options[key] = value
        else:
            known = sorted([*RUNNER_OPTIONS, *OPTIONS])
            raise HeadraceError(
                f"unknown airflow runner option {key!r}; known options: {', '.join(known)}"
            )
    return own, compile_options


def collect_result(
    document: Mapping[str, Any], metadata_url: str, run_id: str, *, duration: float = 0.0
) -> RunResult:
    """A run's outcome as ML Metadata recorded it: each node's latest execution in the run;
    nodes with none (Airflow never started them: upstream failed) are ``not_run``."""
    name = document["pipeline"]["name"]
    result = RunResult(name, run_id, metadata_url, duration=duration)
    if not RunSession.run_exists(MetadataStore(metadata_url), name, run_id):
        result.not_run = {n["id"]: "no node of this run started" for n in document["nodes"]}
        return result
    session = open_run(document, run_id=run_id, metadata_url=metadata_url, orchestrator="airflow")
    for node in document["nodes"]:
        node_id = node["id"]
        recorded = session.recorded_result(node_id)
        if recorded is None:
            blocked = [
                u
                for u in node["upstream"]
                if u not in result.results or result.results[u].status not in Status.FINISHED
            ]
            result.not_run[node_id] = (
                f"upstream node {blocked[0]!r} did not succeed"
                if blocked
                else "Airflow did not run it"
            )
            continue
        result.results[node_id] = recorded
    return result


class AirflowRunner:
    """Runs a pipeline as one Airflow DAG run (``airflow dags test``) on this machine."""

    def __init__(
        self,
        metadata_url: str | None = None,
        on_event: Callable[[NodeEvent], None] | None = None,
        options: Sequence[str] = (),
    ) -> None:
        own, self.compile_options = _parse_runner_options(options)
        parse_options(self.compile_options)  # a bad value is refused before anything runs
        # Kept by this process, which hands it to the tasks' environment (airflow()).
        metadata_url = conceal(metadata_url)
        self.metadata_url = metadata_url
        if metadata_url:
            self.compile_options["metadata"] = metadata_url
        self.on_event = on_event or (lambda event: None)
        self.airflow_python = own.get("airflow_python") or airflow_python_from_env()
        self.airflow_home = own.get("airflow_home")
        timeout = own.get("timeout_seconds")
        try:
            self.timeout = float(timeout) if timeout else None
        except ValueError:
            raise HeadraceError(f"airflow runner option timeout_seconds={timeout!r}") from None
        #: What Airflow printed during the last run (for debugging).
        self.last_log = ""
        #: The DAG file of the last run, and the file holding what Airflow printed.
        self.last_dag_file: Path | None = None
        self.last_log_file: Path | None = None

    def airflow(self, document: Mapping[str, Any], dag_id: str | None = None) -> LocalAirflow:
        """The Airflow installation and home to use; the DAG folder holds ``dag_id`` alone."""
        if not self.airflow_python:
            raise HeadraceError(
                "the airflow runner needs an Airflow environment: set "
                f"{AIRFLOW_PYTHON_ENV}=/path/to/airflow-env/bin/python or pass "
                "--orchestrator-arg=airflow_python=PATH"
            )
        layout = PipelineLayout(document["pipeline"]["root"])
        if not self.airflow_home:
            layout.make_private()  # the Airflow home under it holds DAG files and task logs
        home = self.airflow_home or layout.orchestrator_home("airflow")
        home_path = Path(home).absolute()
        dags = home_path / "dags" / (dag_id or document["pipeline"]["name"])
        # A password this process was given (headrace run --metadata) reaches the tasks in
        # their environment; the DAG file and their command lines name the URL without it.
        url = pipeline_metadata_url(document, self.metadata_url)
        secret = {k: v for k, v in child_environment(url, {}).items() if k == ENV_METADATA_PASSWORD}
        return LocalAirflow(self.airflow_python, home_path, dags, extra_env=secret)

    def run(self, document: Mapping[str, Any], *, run_id: str | None = None) -> RunResult:
        started = time.monotonic()
        run_id = run_id or new_run_id()
        if not _RUN_ID.match(run_id):
            raise HeadraceError(
                f"run id {run_id!r}: on Airflow, 1 to 250 letters, digits and . _ : + - ~"
            )
        text = compile_dag(document, options=self.compile_options)
        dag_id = self.compile_options.get("dag_id") or document["pipeline"]["name"]
        airflow = self.airflow(document, dag_id)
        airflow.ensure_database()
        assert airflow.dags_folder is not None
        dag_file = airflow.dags_folder / f"{dag_id}.py"
        tmp = dag_file.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, dag_file)
        self.last_dag_file = dag_file
        for node in document["nodes"]:
            self.on_event(NodeEvent(node["id"], Status.QUEUED))
        # Logical dates must differ between DAG runs; the run id comes from the conf.
        logical_date = datetime.datetime.now(datetime.UTC).isoformat()
        try:
            proc = airflow.dags_test(
                dag_id,
                logical_date=logical_date,
                conf={"headrace_run_id": run_id},
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            raise HeadraceError(
                f"airflow dags test {dag_id} did not finish in {self.timeout:g} s (timeout_seconds)"
            ) from None
        self.last_log = proc.stdout
        log_dir = airflow.home / "logs" / "headrace"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.last_log_file = log_dir / f"{run_id}.log"
        self.last_log_file.write_text(proc.stdout, encoding="utf-8")
        url = pipeline_metadata_url(document, self.metadata_url)
        result = collect_result(document, url, run_id, duration=time.monotonic() - started)
        if not result.results:
            tail = "\n".join(proc.stdout.splitlines()[-40:])
            raise HeadraceError(
                f"Airflow ran no node of {dag_id!r} (airflow dags test exited with status "
                f"{proc.returncode}); its last output:\n{tail}"
            )
        for node in document["nodes"]:
            node_id = node["id"]
            if node_id in result.results:
                r = result.results[node_id]
                self.on_event(NodeEvent(node_id, r.status, r.duration, r.message))
            else:
                self.on_event(NodeEvent(node_id, Status.NOT_RUN, 0.0, result.not_run[node_id]))
        # The DAG's last task closed the run; closing it again here, by the same rule, covers
        # a DAG run that ended before that task ran (timeout, Airflow itself failing).
        if RunSession.run_exists(MetadataStore(url), result.pipeline_name, run_id):
            close_run(open_run(document, run_id=run_id, metadata_url=url, orchestrator="airflow"))
        if not result.succeeded:
            print(f"airflow dags test output: {self.last_log_file}", file=sys.stderr)
        return result
