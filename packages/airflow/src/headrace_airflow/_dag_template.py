"""An Airflow DAG that runs a headrace pipeline, one task per node.

Written by ``headrace compile --target airflow``: change the pipeline and compile again rather
than editing this file. It imports only Airflow and the standard library, so it loads in an
Airflow environment that has neither headrace nor TensorFlow. Each task runs its node in the
pipeline's own Python environment (``PYTHON`` below) as a child process::

    PYTHON -m headrace_core.launch --ir - --node NODE --run-id RUN --orchestrator airflow

with the pipeline's portable IR (``PIPELINE_IR`` below) on its standard input. Every task of a
DAG run uses the same headrace run id: ``dag_run.conf["headrace_run_id"]`` when the run was
triggered with one, else Airflow's run id. An Airflow retry launches the node again in the
same run: a node that already finished does nothing twice, and a node whose process was
killed is recorded as abandoned and runs again, so downstream nodes see one set of outputs.
When Airflow stops a task (``on_kill``: SIGTERM, timeout, a task marked failed), the node's
process group is terminated with it; on Linux the node also dies if the task process is
killed outright. A last task, ``headrace_finish_run``, runs after every node however each
ended (trigger rule ``all_done``) and closes the headrace run from what ML Metadata recorded
(``python -m headrace_core.launch --finish-run``); it fails, and the DAG run with it, when
the headrace run failed.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import json
import os
import queue
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time

try:  # Airflow 3: the task SDK
    from airflow.sdk import DAG, BaseOperator
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
    )
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
    )
    from airflow.models.baseoperator import BaseOperator

# <headrace:settings> (replaced by the compiler; these are the defaults it starts from)
HEADRACE_AIRFLOW_VERSION = "0"
DAG_ID = "headrace"
DESCRIPTION = ""
PYTHON = sys.executable
METADATA = None
RUN_ID_PREFIX = ""
SCHEDULE = None
START_DATE = "2024-01-01T00:00:00+00:00"
CATCHUP = False
RETRIES = 0
RETRY_DELAY_SECONDS = 300.0
EXECUTION_TIMEOUT_SECONDS = None
KILL_GRACE_SECONDS = 30.0
MAX_ACTIVE_RUNS = None
MAX_ACTIVE_TASKS = None
TAGS = ["headrace"]
PIPELINE_IR = "{}"
# </headrace:settings>

RUN_ID_CONF_KEY = "headrace_run_id"
#: The task that closes the run; no node may have this id (the compiler refuses it).
FINISH_TASK_ID = "headrace_finish_run"
_RUN_ID_CHARS = frozenset(string.ascii_letters + string.digits + "._:+-~")
_RUN_ID_MAX = 250
_TAIL_LINES = 40
# Once the node has exited, how long its output pipe may stay open (held by a process it
# started) before the task stops waiting for it.
_DRAIN_SECONDS = 5.0
_EOF = object()


def headrace_run_id(airflow_run_id, conf):
    """The headrace run of an Airflow DAG run: ``conf["headrace_run_id"]``, else Airflow's id."""
    override = (conf or {}).get(RUN_ID_CONF_KEY)
    if override is None:
        return RUN_ID_PREFIX + airflow_run_id
    if (
        not isinstance(override, str)
        or not override
        or len(override) > _RUN_ID_MAX
        or not set(override) <= _RUN_ID_CHARS
    ):
        raise AirflowFailException(
            f"dag_run.conf[{RUN_ID_CONF_KEY!r}] is {override!r}: expected a run id of at most "
            f"{_RUN_ID_MAX} letters, digits and . _ : + - ~"
        )
    return override


def _die_with_parent():
    """A ``preexec_fn`` that makes Linux SIGKILL the node when the task process dies, even by
    SIGKILL: a node that outlived its task would run alongside the retry and publish twice."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1
    kill = int(signal.SIGKILL)

    def preexec():
        prctl(pr_set_pdeathsig, kill)
        if os.getppid() != parent:  # the task died before the request took effect
            os._exit(1)

    return preexec


def _signal_group(pgid, sig):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _read_lines(stream, lines):
    try:
        for raw in stream:
            lines.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    except (OSError, ValueError):
        pass
    finally:
        lines.put(_EOF)


def _feed(stream, text):
    # The node reads the IR before anything else; it may exit early (bad interpreter, no
    # headrace installed) and close the pipe, which its exit status then explains.
    with contextlib.suppress(BrokenPipeError, OSError):
        stream.write(text.encode("utf-8"))
    with contextlib.suppress(BrokenPipeError, OSError):
        stream.close()


def _read_result(path):
    try:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None


class HeadraceNodeOperator(BaseOperator):
    """Runs one headrace node as a child process in the pipeline's Python environment."""

    ui_color = "#dce8f5"

    def __init__(self, *, headrace_node, **kwargs):
        super().__init__(**kwargs)
        self.headrace_node = headrace_node
        self._process = None
        self._terminated_at = None

    def execute(self, context):
        # `airflow dags test` runs every try of a task on the same operator object.
        self._process = None
        self._terminated_at = None
        dag_run = context["dag_run"]
        run_id = headrace_run_id(dag_run.run_id, dag_run.conf)
        scratch = tempfile.mkdtemp(prefix="headrace-airflow-")
        result_file = os.path.join(scratch, "result.json")
        command = [
            PYTHON,
            "-m",
            "headrace_core.launch",
            "--ir",
            "-",
            "--node",
            self.headrace_node,
            "--run-id",
            run_id,
            "--orchestrator",
            "airflow",
            "--result-file",
            result_file,
        ]
        if METADATA:
            command += ["--metadata", METADATA]
        self.log.info("headrace run %s, node %s: %s", run_id, self.headrace_node, " ".join(command))
        tail = collections.deque(maxlen=_TAIL_LINES)
        try:
            returncode = self._run_launcher(command, tail)
            result = _read_result(result_file)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

        where = f"headrace node {self.headrace_node!r} (run {run_id})"
        if returncode < 0:
            raise AirflowException(
                f"{where} was killed by signal {-returncode} before it finished; "
                "a retry of this task runs the node again"
            )
        if result is None:
            output = "\n".join(tail)
            raise AirflowException(
                f"{where}: {PYTHON} exited with status {returncode} and reported no result"
                + (f"; its last output:\n{output}" if output else "")
            )
        status = result.get("status")
        message = result.get("message") or ""
        if returncode != 0 or status == "failed":
            raise AirflowException(f"{where} failed: {message or result.get('error')}")
        if status == "skipped":
            raise AirflowSkipException(f"{where} was skipped: {message}")
        self.log.info("%s: %s %s", where, status, message)
        return {
            "run_id": run_id,
            "node_id": self.headrace_node,
            "status": status,
            "execution_id": result.get("execution_id"),
            "outputs": result.get("outputs", {}),
        }

    def _run_launcher(self, command, tail):
        """Run ``command`` with the IR on its standard input, logging its output (the last
        lines kept in ``tail``); return its exit status once it and its group are gone."""
        try:
            try:
                self._process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    # Only prctl and getppid run between fork and exec.
                    preexec_fn=_die_with_parent(),  # noqa: PLW1509
                )
            except OSError as e:
                raise AirflowFailException(
                    f"cannot start the pipeline's Python {PYTHON!r}: {e.strerror or e}; compile "
                    "the DAG again with --option python=/path/to/pipeline-env/bin/python"
                ) from None
            threading.Thread(
                target=_feed, args=(self._process.stdin, PIPELINE_IR), daemon=True
            ).start()
            return self._follow(self._process, tail)
        finally:
            self._stop()

    def _follow(self, process, tail):
        """Log the node's output as it comes; return its exit status once it has exited."""
        lines = queue.Queue()
        threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
        exited_at = None
        while True:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                line = None
            if line is _EOF:
                break
            if line is not None:
                tail.append(line)
                self.log.info("%s", line)
                continue
            if exited_at is None and process.poll() is not None:
                exited_at = time.monotonic()
            if exited_at is not None and time.monotonic() - exited_at > _DRAIN_SECONDS:
                break
            self._escalate()
        while process.poll() is None:
            time.sleep(0.1)
            self._escalate()
        return process.returncode

    def _escalate(self):
        """SIGKILL the node's group once a termination has gone unheeded for the grace time."""
        process = self._process
        if (
            process is not None
            and self._terminated_at is not None
            and time.monotonic() - self._terminated_at > KILL_GRACE_SECONDS
            and process.poll() is None
        ):
            _signal_group(process.pid, signal.SIGKILL)

    def _stop(self):
        """Stop the node if it is still running and wait until it has exited; then SIGKILL
        what is left of its process group (Beam workers, ...): nothing outlives a node, killed
        or not, to run beside its retry."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self.log.warning(
                "stopping headrace node %s (process group %s)", self.headrace_node, process.pid
            )
            if self._terminated_at is None:
                self._terminated_at = time.monotonic()
                _signal_group(process.pid, signal.SIGTERM)
            while process.poll() is None:
                time.sleep(0.1)
                self._escalate()
        _signal_group(process.pid, signal.SIGKILL)

    def on_kill(self):
        # Airflow calls this from its SIGTERM handler, in the thread that runs execute(): only
        # signal here. execute() waits for the node to exit, and SIGKILLs its process group
        # when it is still there KILL_GRACE_SECONDS later.
        process = self._process
        if process is not None and process.poll() is None and self._terminated_at is None:
            self._terminated_at = time.monotonic()
            self.log.warning(
                "terminating headrace node %s (process group %s)", self.headrace_node, process.pid
            )
            _signal_group(process.pid, signal.SIGTERM)


class HeadraceFinishRunOperator(HeadraceNodeOperator):
    """The DAG's last task, run however the nodes ended: closes the headrace run (its status
    and end time, as ``headrace runs list`` shows them) from what ML Metadata recorded.
    It fails when the run failed, so that the DAG run fails too (its one leaf task)."""

    ui_color = "#e8e8e8"

    def __init__(self, **kwargs):
        super().__init__(headrace_node=None, **kwargs)

    def execute(self, context):
        self._process = None
        self._terminated_at = None
        dag_run = context["dag_run"]
        run_id = headrace_run_id(dag_run.run_id, dag_run.conf)
        command = [PYTHON, "-m", "headrace_core.launch", "--ir", "-", "--finish-run"]
        command += ["--run-id", run_id, "--orchestrator", "airflow"]
        if METADATA:
            command += ["--metadata", METADATA]
        self.log.info("closing headrace run %s: %s", run_id, " ".join(command))
        tail = collections.deque(maxlen=_TAIL_LINES)
        returncode = self._run_launcher(command, tail)
        if returncode != 0:
            output = "\n".join(tail)
            # Not retried: the nodes' outcome, which decided it, will not change.
            raise AirflowFailException(
                f"headrace run {run_id} did not succeed ({PYTHON} -m headrace_core.launch "
                f"--finish-run exited with status {returncode})"
                + (f"; its last output:\n{output}" if output else "")
            )
        return {"run_id": run_id, "status": "succeeded"}


def _build_dag():
    document = json.loads(PIPELINE_IR)
    start_date = datetime.datetime.fromisoformat(START_DATE)
    if start_date.tzinfo is None:
        # datetime.UTC is 3.11+; Airflow's Python may be older.
        start_date = start_date.replace(tzinfo=datetime.timezone.utc)  # noqa: UP017
    default_args = {
        "retries": RETRIES,
        "retry_delay": datetime.timedelta(seconds=RETRY_DELAY_SECONDS),
    }
    if EXECUTION_TIMEOUT_SECONDS is not None:
        default_args["execution_timeout"] = datetime.timedelta(seconds=EXECUTION_TIMEOUT_SECONDS)
    dag_args = {
        "dag_id": DAG_ID,
        "description": DESCRIPTION,
        "schedule": SCHEDULE,
        "start_date": start_date,
        "catchup": CATCHUP,
        "tags": list(TAGS),
        "default_args": default_args,
    }
    if MAX_ACTIVE_RUNS is not None:
        dag_args["max_active_runs"] = MAX_ACTIVE_RUNS
    if MAX_ACTIVE_TASKS is not None:
        dag_args["max_active_tasks"] = MAX_ACTIVE_TASKS
    dag = DAG(**dag_args)
    tasks = {}
    for node in document.get("nodes", []):
        tasks[node["id"]] = HeadraceNodeOperator(
            task_id=node["id"],
            headrace_node=node["id"],
            dag=dag,
            # A node downstream of a skipped one still runs, and records itself as skipped.
            trigger_rule="none_failed",
        )
    for node in document.get("nodes", []):
        for upstream in node["upstream"]:
            tasks[upstream] >> tasks[node["id"]]
    if tasks:
        # After every node, whatever became of it (failed, upstream failed, skipped).
        finish = HeadraceFinishRunOperator(
            task_id=FINISH_TASK_ID, dag=dag, trigger_rule="all_done", retries=0
        )
        list(tasks.values()) >> finish
    return dag


dag = _build_dag()
