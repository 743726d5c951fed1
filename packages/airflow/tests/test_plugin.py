"""The plugin: registered as an orchestrator, light to load, runner options checked."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from headrace_airflow import AIRFLOW_PYTHON_ENV, AirflowRunner, compile_dag
from headrace_core.errors import HeadraceError
from headrace_core.executor import import_ref
from headrace_core.plugins import get_plugin_manager
from headrace_core.testing import check_distribution, imported_heavy_modules


def test_headrace_plugins_lists_the_airflow_orchestrator() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", "plugins"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert ["orchestrator", "airflow", "headrace-airflow", "0.1.0"] in rows


def test_registration_points_at_importable_runner_and_compiler() -> None:
    manager = get_plugin_manager()
    assert not [e for e in manager.errors if e.distribution == "headrace-airflow"]
    entry = manager.orchestrators.entry("airflow")
    assert entry.provenance.distribution == "headrace-airflow"
    assert entry.value.runner is not None and entry.value.compiler is not None
    assert import_ref(entry.value.runner) is AirflowRunner
    assert import_ref(entry.value.compiler) is compile_dag


def test_check_distribution() -> None:
    assert check_distribution("headrace-airflow") == ["airflow"]


def test_loading_the_plugin_imports_neither_airflow_nor_tensorflow() -> None:
    modules = ["headrace_airflow", "headrace_airflow.runner", "headrace_airflow.compiler"]
    assert imported_heavy_modules(modules) == []
    code = "import headrace_airflow.runner, json, sys; print(json.dumps('airflow' in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) is False


def test_runner_options_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(HeadraceError, match="unknown airflow runner option 'airflow_pyhton'"):
        AirflowRunner(options=["airflow_pyhton=/x"])
    with pytest.raises(HeadraceError, match="expected KEY=VALUE"):
        AirflowRunner(options=["retries"])
    with pytest.raises(HeadraceError, match="timeout_seconds"):
        AirflowRunner(options=["timeout_seconds=soon"])
    runner = AirflowRunner(options=["retries=1", "airflow_python=/opt/af/bin/python"])
    assert runner.compile_options == {"retries": "1"}
    assert runner.airflow_python == "/opt/af/bin/python"

    monkeypatch.delenv(AIRFLOW_PYTHON_ENV, raising=False)
    runner = AirflowRunner()
    with pytest.raises(HeadraceError, match=AIRFLOW_PYTHON_ENV):
        runner.airflow({"pipeline": {"name": "p", "root": "/tmp/p"}, "nodes": []})
