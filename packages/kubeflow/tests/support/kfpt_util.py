"""Helpers of the headrace-kubeflow tests: paths, the headrace command in a fresh interpreter,
and what a run recorded in ML Metadata."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parents[2]
HELLO = REPO / "examples" / "hello" / "pipeline.py"
FAILING = TESTS / "pipelines" / "failing.py"
HELLO_NODES = ["MakeNumbers", "Describe", "Train", "Evaluate", "Push"]


def pipeline_env(root: Path) -> dict[str, str]:
    """The environment that points the hello and failing pipelines at ``root``."""
    env = dict(os.environ)
    env["HELLO_ROOT"] = env["CONFORMANCE_ROOT"] = str(root)
    return env


def headrace(*args: str, root: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``headrace ARGS`` in a fresh interpreter of this environment."""
    return subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", *args],
        env=pipeline_env(root),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def compile_ir(pipeline_file: Path, root: Path) -> dict[str, Any]:
    """The pipeline's IR, as ``headrace compile`` writes it."""
    out = headrace("compile", str(pipeline_file), root=root)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def run_executions(
    root: Path, pipeline: str, run_id: str, url: str | None = None
) -> dict[str, Any]:
    """node id -> the execution recorded for it in run ``run_id`` (in the store at ``url``,
    by default SQLite in ``root``)."""
    from headrace_core.metadata import (
        RUN_CONTEXT,
        MetadataStore,
        custom,
        default_metadata_url,
        run_context_name,
    )

    store = MetadataStore(url or default_metadata_url(str(root)))
    ctx = store.get_context(RUN_CONTEXT, run_context_name(pipeline, run_id))
    assert ctx is not None, f"no run {run_id!r} of {pipeline!r} in {root}"
    executions = store.executions_in_context(ctx.id, newest_first=False)
    found = {str(custom(e, "node_id")): e for e in executions}
    assert len(found) == len(executions), "a node has two executions in one run"
    return found


def run_context(root: Path, pipeline: str, run_id: str, url: str | None = None) -> Any:
    from headrace_core.metadata import (
        RUN_CONTEXT,
        MetadataStore,
        default_metadata_url,
        run_context_name,
    )

    store = MetadataStore(url or default_metadata_url(str(root)))
    return store.get_context(RUN_CONTEXT, run_context_name(pipeline, run_id))


def artifact_count(root: Path) -> int:
    from headrace_core.metadata import MetadataStore, default_metadata_url

    return len(MetadataStore(default_metadata_url(str(root))).call("get_artifacts"))


def status_of(execution: Any) -> str:
    from headrace_core.metadata import custom

    return str(custom(execution, "status"))


def recording_interpreter(path: Path, log: Path) -> str:
    """An executable at ``path`` that appends its command line to ``log``, then runs this
    interpreter with it: what ``ps`` would show of every process started through it."""
    path.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$0 $*" >> "{log}"\nexec "{sys.executable}" "$@"\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return str(path)


def command_line(pid: int) -> str:
    """The command line of process ``pid`` ("" when there is none: it ended and was reaped)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def kfp_local_children(pid: int) -> list[int]:
    """The ``python -m headrace_kubeflow.local`` processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The parent is the second field after the command name, which may hold spaces.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        if int(fields[1]) == pid and "headrace_kubeflow.local" in command_line(child):
            found.append(child)
    return found
