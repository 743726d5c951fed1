"""Script mode: ``python pipeline.py`` calling :func:`run_in_console` prints what ``headrace
run`` prints, and a failed node ends the script with a traceback naming it (exit 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hrexec_util import FIXTURES, cli_env

SCRIPT = """
import os, sys
sys.path.insert(0, {fixtures!r})
from pipe_failing import create_pipeline
from headrace_core import Pipeline
from headrace_core.orchestration.local import run_in_console

p = create_pipeline()
result = run_in_console(Pipeline(p.pipeline_name, {root!r}, p.components), max_parallel=1)
print("returned", result.succeeded)
"""


def _script(tmp_path: Path, fail: bool) -> subprocess.CompletedProcess[str]:
    fail_file = tmp_path / "fail"
    if fail:
        fail_file.touch()
    script = tmp_path / "pipeline_script.py"
    script.write_text(SCRIPT.format(fixtures=str(FIXTURES), root=str(tmp_path / "root")))
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=cli_env(HREXEC_FAIL_FILE=str(fail_file)),
        check=False,
        timeout=120,
    )


def test_a_failing_node_fails_the_script_naming_it(tmp_path: Path) -> None:
    proc = _script(tmp_path, fail=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "running 'failing': 5 nodes on local" in proc.stdout
    assert "Explode" in proc.stdout and "FAILED" in proc.stdout
    assert "summary:" in proc.stdout
    assert "headrace: error: node 'Explode' failed" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("headrace_core._run_report.PipelineRunError: pipeline 'failing', run ")
    assert last.endswith(": node 'Explode' failed")
    assert "returned" not in proc.stdout


def test_a_run_that_succeeds_prints_progress_and_summary(tmp_path: Path) -> None:
    proc = _script(tmp_path, fail=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any("MakeExamples" in line and "done" in line for line in lines), proc.stdout
    assert "summary:" in lines
    assert any(line.startswith("run ") and "5 complete" in line for line in lines), proc.stdout
    assert lines[-1] == "returned True"
