"""The plugin: registered as orchestrator ``kubeflow``, light to load, and the contract checks."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from kfpt_util import headrace

from headrace_core.executor import import_ref
from headrace_core.plugins import get_plugin_manager
from headrace_core.testing import check_distribution, imported_heavy_modules


def test_plugins_lists_the_orchestrator(tmp_path: Path) -> None:
    out = headrace("plugins", "--json", root=tmp_path)
    assert out.returncode == 0, out.stderr
    listing = json.loads(out.stdout)
    rows = [r for r in listing["entries"] if r["kind"] == "orchestrator"]
    kubeflow = [r for r in rows if r["name"] == "kubeflow"]
    assert kubeflow == [
        {
            "name": "kubeflow",
            "kind": "orchestrator",
            "distribution": "headrace-kubeflow",
            "version": "0.1.0",
            "plugin": "kubeflow",
        }
    ]
    assert not [e for e in listing["errors"] if e["distribution"] == "headrace-kubeflow"]
    table = headrace("plugins", root=tmp_path)
    assert any(
        line.split()[:3] == ["orchestrator", "kubeflow", "headrace-kubeflow"]
        for line in table.stdout.splitlines()
    )


def test_registration_resolves() -> None:
    manager = get_plugin_manager()
    entry = manager.orchestrators.entry("kubeflow")
    assert entry.provenance.distribution == "headrace-kubeflow"
    spec = entry.value
    assert spec.runner is not None and spec.compiler is not None
    runner = import_ref(spec.runner)
    assert set(inspect.signature(runner).parameters) >= {"metadata_url", "on_event", "options"}
    assert "run_id" in inspect.signature(runner.run).parameters
    compiler = import_ref(spec.compiler)
    assert inspect.signature(compiler).parameters["options"].kind is inspect.Parameter.KEYWORD_ONLY


def test_loading_the_plugin_imports_no_kfp_and_nothing_heavy() -> None:
    script = (
        "import sys, json\n"
        "from headrace_core.plugins import get_plugin_manager\n"
        "import headrace_kubeflow, headrace_kubeflow.plugin\n"
        "assert 'kubeflow' in get_plugin_manager().orchestrators\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'kfp')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
    assert imported_heavy_modules(["headrace_kubeflow", "headrace_kubeflow.compiler"]) == []


def test_runner_refuses_bad_options() -> None:
    from headrace_core import HeadraceError
    from headrace_kubeflow import KubeflowRunner

    with pytest.raises(HeadraceError, match="unknown kubeflow option 'colour'; known options"):
        KubeflowRunner(options=["colour=blue"])
    with pytest.raises(HeadraceError, match="expected KEY=VALUE"):
        KubeflowRunner(options=["retries"])
    with pytest.raises(HeadraceError, match="option retries='x'"):
        KubeflowRunner(options=["retries=x"])
    with pytest.raises(HeadraceError, match="headrace run --metadata"):
        KubeflowRunner(options=["metadata=sqlite:///x.db"])


def test_check_distribution() -> None:
    assert check_distribution("headrace-kubeflow") == ["kubeflow"]
