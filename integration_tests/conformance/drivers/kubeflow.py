"""Kubeflow Pipelines: ``headrace compile --target kubeflow`` writes the spec a cluster would get,
then ``python -m headrace_kubeflow.local`` runs that file through ``kfp.local``.

kfp is a dependency of headrace-kubeflow, so by default kfp.local runs in this interpreter;
``HEADRACE_KFP_PYTHON`` names another one (an environment with headrace-kubeflow, see
``packages/kubeflow/tests/kfp-requirements.txt``). The nodes always run with this interpreter,
which holds the pipeline's component packages.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conformance.outcome import Outcome

ENV_KFP_PYTHON = "HEADRACE_KFP_PYTHON"


def _kfp_python() -> str:
    configured = os.environ.get(ENV_KFP_PYTHON)
    if configured:
        if not os.path.exists(configured):
            pytest.skip(f"kubeflow: {ENV_KFP_PYTHON}={configured} does not exist")
        return configured
    missing = [m for m in ("kfp", "headrace_kubeflow") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(
            f"kubeflow: {', '.join(missing)} not installed here; install headrace-kubeflow, or "
            f"set {ENV_KFP_PYTHON} to the interpreter of an environment that has it"
        )
    return sys.executable


def _run(
    command: list[str], env: dict[str, str], workdir: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def run_pipeline(pipeline_file: Path, root: Path, workdir: Path) -> Outcome:
    kfp_python = _kfp_python()
    env = dict(os.environ, HELLO_ROOT=str(root), CONFORMANCE_ROOT=str(root))
    spec = workdir / "pipeline.yaml"
    compiled = _run(
        [
            sys.executable, "-m", "headrace_core.cli", "compile", str(pipeline_file),
            "--target", "kubeflow", "-o", str(spec), "--option", f"python={sys.executable}",
        ],
        env,
        workdir,
    )  # fmt: skip
    log = f"compile: exit {compiled.returncode}\n{compiled.stderr}\n"
    if compiled.returncode != 0:
        raise AssertionError(f"headrace compile --target kubeflow failed:\n{log}")
    proc = _run(
        [
            kfp_python, "-m", "headrace_kubeflow.local", str(spec), "--json",
            "--kfp-root", str(workdir / "kfp"),
        ],
        env,
        workdir,
    )  # fmt: skip
    log += f"kfp.local: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as e:
        raise AssertionError(f"python -m headrace_kubeflow.local printed no JSON:\n{log}") from e
    assert (proc.returncode == 0) == result["succeeded"], log
    return Outcome(result["run_id"], result["succeeded"], sorted(result["failed_nodes"]), log)
