"""``headrace run --json`` in a fresh interpreter: the local drivers, and Beam's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conformance.outcome import Outcome


def headrace_run(pipeline_file: Path, root: Path, workdir: Path, *args: str) -> Outcome:
    env = dict(os.environ, HELLO_ROOT=str(root), CONFORMANCE_ROOT=str(root))
    proc = subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", "run", str(pipeline_file), "--json", *args],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=600,
        check=False,
    )
    log = f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"headrace run printed no JSON result:\n{log}") from e
    failed = sorted(n for n, r in result["nodes"].items() if r["status"] == "failed")
    assert (proc.returncode == 0) == result["succeeded"], log
    return Outcome(result["run_id"], result["succeeded"], failed, log)
