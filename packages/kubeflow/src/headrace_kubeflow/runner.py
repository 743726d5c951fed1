"""``headrace run PIPELINE --orchestrator kubeflow``: compile the spec, run it here with kfp.local.

The spec is the one ``headrace compile --target kubeflow`` writes for a cluster; kfp.local
runs it in a child process (``python -m headrace_kubeflow.local``), whose output goes to a log
file beside the spec. Node results come back through result files, as they are written. The
metadata URL reaches the tasks in ``HEADRACE_METADATA``, never in the spec or on a command
line. Interrupted (Ctrl-C, SIGTERM, an exception from ``on_event``), the run stops kfp.local
and what it started, and is marked failed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from headrace_core.errors import HeadraceError
from headrace_core.metadata import child_environment
from headrace_core.runtime import (
    NodeEvent,
    NodeResult,
    RunResult,
    RunSession,
    Status,
    close_run,
    open_run,
    pipeline_metadata_url,
)

__all__ = ["ENV_KFP_PYTHON", "RUNNER_OPTIONS", "KubeflowRunner"]

#: The interpreter that runs kfp.local, when it is not the one running headrace.
ENV_KFP_PYTHON = "HEADRACE_KFP_PYTHON"

#: ``--orchestrator-arg KEY=VALUE`` keys besides the compile options (image, retries, name).
RUNNER_OPTIONS: dict[str, str] = {
    "python": "interpreter that runs the nodes (default: the one running headrace)",
    "kfp_python": f"interpreter that runs kfp.local, with headrace-kubeflow installed "
    f"(default: ${ENV_KFP_PYTHON}, else the one running headrace)",
    "log": "where kfp.local's output goes: a file, or - for standard error (default: "
    "<root>/.headrace/runs/<run id>/kubeflow/kfp-local.log)",
}

_POLL_SECONDS = 0.2
# How long kfp.local and its tasks get to end after SIGTERM before they are killed.
_STOP_SECONDS = 10.0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End kfp.local and everything it started (its process group), and reap it."""
    if proc.returncode is not None:
        return  # reaped already: its process group id may name someone else's by now
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit while kfp.local runs, so the run stops its child and is
    marked failed; by default SIGTERM would end this process at once and leave both behind.
    Only where SIGTERM has no handler of the application's, and in the main thread (the only
    one that may set one)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def handler(signum: int, frame: object) -> None:
        # A second SIGTERM must not cut short the stopping of the child that the first began.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class KubeflowRunner:
    """Runs a compiled pipeline through its Kubeflow spec and kfp.local, on this machine."""

    def __init__(
        self,
        *,
        metadata_url: str | None = None,
        on_event: Callable[[NodeEvent], None] | None = None,
        options: Sequence[str] = (),
    ) -> None:
        from headrace_kubeflow.compiler import OPTIONS, parse_options

        self.metadata_url = metadata_url
        self.on_event = on_event or (lambda event: None)
        settings: dict[str, str] = {}
        for option in options:
            key, sep, value = option.partition("=")
            if not sep or not key:
                raise HeadraceError(f"kubeflow option {option!r}: expected KEY=VALUE")
            if key == "metadata":
                raise HeadraceError(
                    "kubeflow option 'metadata': give the store with headrace run --metadata"
                )
            if key not in OPTIONS and key not in RUNNER_OPTIONS:
                known = sorted(set(OPTIONS) - {"metadata"} | set(RUNNER_OPTIONS))
                raise HeadraceError(
                    f"unknown kubeflow option {key!r}; known options: {', '.join(known)}"
                )
            settings[key] = value
        self.python = settings.pop("python", "") or sys.executable
        self.kfp_python = (
            settings.pop("kfp_python", "") or os.environ.get(ENV_KFP_PYTHON) or sys.executable
        )
        for label, program in (("python", self.python), ("kfp_python", self.kfp_python)):
            if shutil.which(program) is None:
                raise HeadraceError(f"kubeflow option {label}: no interpreter at {program!r}")
        self.log = settings.pop("log", "")
        self.compile_options = settings
        parse_options(settings)  # a bad image or retries fails now, not after the store opens
        #: The log file of the latest run (None when it went to standard error).
        self.log_path: str | None = None

    def run(self, document: Mapping[str, Any], *, run_id: str | None = None) -> RunResult:
        from headrace_kubeflow.compiler import compile_pipeline, has_password

        started = time.monotonic()
        document = dict(document)
        url = pipeline_metadata_url(document, self.metadata_url)
        pipeline = document["pipeline"]
        if has_password(pipeline.get("metadata_connection_config")):
            # The spec carries the IR, and kfp.local puts it on every task's command line;
            # the URL reaches the tasks through the environment instead (below).
            pipeline = dict(pipeline, metadata_connection_config=None)
        spec_text = compile_pipeline(
            dict(document, pipeline=pipeline), options=self.compile_options
        )
        session = open_run(document, run_id=run_id, metadata_url=url, orchestrator="kubeflow")
        try:
            return self._run(document, session, spec_text, url, started)
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM) or on_event raised: the run is over and did not
            # succeed. Marking must not hide the exception that ended it.
            with contextlib.suppress(Exception):
                session.finish(False)
            raise

    def _run(
        self,
        document: Mapping[str, Any],
        session: RunSession,
        spec_text: str,
        url: str,
        started: float,
    ) -> RunResult:
        from headrace_kubeflow.local import collect_results

        run_id = session.run_id
        workdir = session.layout.run_workdir(run_id, "kubeflow")
        results_dir = os.path.join(workdir, "results")
        os.makedirs(results_dir, exist_ok=True)
        spec_path = os.path.join(workdir, "pipeline.yaml")
        with open(spec_path, "w", encoding="utf-8") as f:
            f.write(spec_text)
        node_ids = [n["id"] for n in document["nodes"]]
        for node_id in node_ids:
            self.on_event(NodeEvent(node_id, Status.QUEUED))
        command = [
            self.kfp_python,
            *("-m", "headrace_kubeflow.local", spec_path),
            *("--run-id", run_id, "--python", self.python),
            *("--result-dir", results_dir, "--kfp-root", os.path.join(workdir, "kfp")),
        ]
        # The store's URL and its password go in the environment, which every task inherits,
        # not on a command line (ps shows those, and kfp.local logs every task's parameters).
        env = child_environment(url, dict(os.environ, HEADRACE_METADATA=url))
        self.log_path = (
            None if self.log == "-" else (self.log or os.path.join(workdir, "kfp-local.log"))
        )
        with contextlib.ExitStack() as stack:
            if self.log_path is None:
                output: Any = sys.stderr
            else:
                output = stack.enter_context(open(self.log_path, "w", encoding="utf-8"))
            stack.enter_context(_terminate_as_exit())
            try:
                # Its own process group: the tasks and nodes it starts are stopped with it,
                # and a Ctrl-C in the terminal reaches this process alone, which stops them.
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=env,
                    process_group=0,
                )
            except OSError as e:
                raise HeadraceError(f"cannot start kfp.local with {self.kfp_python!r}: {e}") from e
            try:
                seen: set[str] = set()
                while True:
                    try:
                        proc.wait(timeout=_POLL_SECONDS)
                        finished = True
                    except subprocess.TimeoutExpired:
                        finished = False
                    self._report_new(document, results_dir, seen)
                    if finished:
                        break
            except BaseException:
                _stop(proc)
                raise
        results, not_run = collect_results(document, results_dir)
        if proc.returncode != 0 and not any(r.get("status") == "failed" for r in results.values()):
            # No node failed, yet kfp.local did: it broke by itself (no kfp there, a bad spec).
            where = f"; see {self.log_path}" if self.log_path else ""
            for node_id in not_run:
                not_run[node_id] = f"kfp.local exited with status {proc.returncode}{where}"
        result = RunResult(session.pipeline_name, run_id, url)
        for node_id in node_ids:
            if node_id in results:
                result.results[node_id] = self._node_result(session, results[node_id])
            else:
                result.not_run[node_id] = not_run[node_id]
                self.on_event(NodeEvent(node_id, Status.NOT_RUN, 0.0, not_run[node_id]))
        result.duration = time.monotonic() - started
        # The spec's exit handler closed the run (or, after a failed task, headrace_kubeflow.
        # local did); once more here by the same rule, for a kfp.local that broke by itself.
        close_run(session)
        return result

    def _report_new(self, document: Mapping[str, Any], results_dir: str, seen: set[str]) -> None:
        from headrace_kubeflow.local import collect_results

        results, _ = collect_results(document, results_dir)
        for node_id, data in results.items():
            if node_id not in seen:
                seen.add(node_id)
                self.on_event(
                    NodeEvent(
                        node_id,
                        str(data.get("status")),
                        float(data.get("duration") or 0.0),
                        str(data.get("message") or ""),
                    )
                )

    @staticmethod
    def _node_result(session: RunSession, data: Mapping[str, Any]) -> NodeResult:
        result = NodeResult.from_json(data, session)
        # kfp.local's wrapper may record only the error: show it as the message too.
        result.message = result.message or (result.error or "")
        return result
