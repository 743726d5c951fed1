"""The DAG file compiler: deterministic, valid Python, Airflow and the standard library only,
the IR embedded intact, options checked."""

from __future__ import annotations

import ast
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hrairflow_testing import HELLO, compile_pipeline

from headrace_airflow import OPTIONS, compile_dag, parse_options, run_id_prefix
from headrace_airflow.compiler import FINISH_TASK_ID
from headrace_core.errors import HeadraceError

CLI = [sys.executable, "-m", "headrace_core.cli"]


@pytest.fixture
def hello(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return compile_pipeline(HELLO, {"HELLO_ROOT": str(tmp_path / "root")}, monkeypatch)


def settings(text: str) -> dict[str, Any]:
    """The module-level constants of a DAG file, read without running it."""
    found = {}
    for statement in ast.parse(text).body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id.isupper()
        ):
            try:
                found[statement.targets[0].id] = ast.literal_eval(statement.value)
            except ValueError:
                continue
    return found


def test_output_is_deterministic(hello: dict[str, Any], tmp_path: Path) -> None:
    first = compile_dag(hello, options={"retries": "2"})
    assert compile_dag(copy.deepcopy(hello), options={"retries": "2"}) == first
    # Through the CLI, in another interpreter with another hash seed: the same bytes.
    out = tmp_path / "dag.py"
    env = {**os.environ, "HELLO_ROOT": hello["pipeline"]["root"], "PYTHONHASHSEED": "123"}
    proc = subprocess.run(
        [
            *CLI,
            "compile",
            str(HELLO),
            "--target",
            "airflow",
            "-o",
            str(out),
            "--option",
            "retries=2",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "for airflow to" in proc.stderr
    assert out.read_text() == first


def test_output_is_valid_python_importing_only_airflow_and_the_standard_library(
    hello: dict[str, Any],
) -> None:
    text = compile_dag(hello, options={})
    compile(text, "hello_dag.py", "exec")
    tree = ast.parse(text)
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    assert "airflow" in modules
    assert modules - {"airflow", "__future__"} <= sys.stdlib_module_names, modules
    assert text.isascii()
    # Airflow's DAG discovery skips files that mention neither word.
    assert "airflow" in text.lower() and "dag" in text.lower()


def test_the_ir_and_settings_are_embedded(hello: dict[str, Any]) -> None:
    text = compile_dag(
        hello,
        options={
            "schedule": "@daily",
            "start_date": "2026-01-01",
            "retries": "2",
            "retry_delay_seconds": "60",
            "python": "/opt/pipeline-env/bin/python",
            "metadata": "mysql://u@db:3306/mlmd",
            "tags": "ml, nightly",
            "max_active_runs": "1",
        },
    )
    found = settings(text)
    assert json.loads(found["PIPELINE_IR"]) == hello
    assert found["DAG_ID"] == "hello"
    assert found["SCHEDULE"] == "@daily"
    assert found["START_DATE"] == "2026-01-01T00:00:00+00:00"
    assert found["RETRIES"] == 2
    assert found["RETRY_DELAY_SECONDS"] == 60.0
    assert found["PYTHON"] == "/opt/pipeline-env/bin/python"
    assert found["METADATA"] == "mysql://u@db:3306/mlmd"
    assert found["TAGS"] == ["ml", "nightly"]
    assert found["MAX_ACTIVE_RUNS"] == 1
    assert found["MAX_ACTIVE_TASKS"] is None
    assert found["RUN_ID_PREFIX"] == ""
    assert found["CATCHUP"] is False


def test_defaults(hello: dict[str, Any]) -> None:
    found = settings(compile_dag(hello, options={}))
    assert found["PYTHON"] == sys.executable
    assert found["SCHEDULE"] is None
    assert found["RETRIES"] == 0
    assert found["METADATA"] is None
    assert found["EXECUTION_TIMEOUT_SECONDS"] is None
    assert found["TAGS"] == ["headrace"]


def test_awkward_strings_survive_the_embedding(hello: dict[str, Any]) -> None:
    document = copy.deepcopy(hello)
    awkward = "a ''' b \"\"\" c \\ d \\' e\n f \u00e9\u4e2d \U0001f600 '"
    document["nodes"][0]["parameters"]["note"] = awkward
    document["pipeline"]["description"] = awkward + "\\"
    text = compile_dag(document, options={})
    compile(text, "dag.py", "exec")
    assert json.loads(settings(text)["PIPELINE_IR"]) == document


def test_dag_id_option_changes_the_run_id_prefix(hello: dict[str, Any]) -> None:
    found = settings(compile_dag(hello, options={"dag_id": "hello_nightly"}))
    assert found["DAG_ID"] == "hello_nightly"
    assert found["RUN_ID_PREFIX"] == "hello_nightly__"
    assert run_id_prefix("hello", "hello") == ""


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dag_id", "has space"),
        ("dag_id", ""),
        ("schedule", "@fortnightly"),
        ("schedule", "* * *"),
        ("schedule", "0 3 * * * * *"),
        ("start_date", "yesterday"),
        ("start_date", "2026-13-01"),
        ("catchup", "maybe"),
        ("retries", "-1"),
        ("retries", "two"),
        ("retry_delay_seconds", "-5"),
        ("retry_delay_seconds", "inf"),
        ("execution_timeout_seconds", "0"),
        ("kill_grace_seconds", "soon"),
        ("python", "bin/python"),
        ("max_active_runs", "0"),
        ("max_active_tasks", "1.5"),
    ],
)
def test_bad_option_values_name_the_option(hello: dict[str, Any], key: str, value: str) -> None:
    with pytest.raises(HeadraceError, match=rf"airflow option {key}="):
        compile_dag(hello, options={key: value})


def test_unknown_option_lists_the_known_ones(hello: dict[str, Any]) -> None:
    with pytest.raises(HeadraceError) as raised:
        compile_dag(hello, options={"retry": "2"})
    message = str(raised.value)
    assert "'retry'" in message
    for key in OPTIONS:
        assert key in message


def test_good_option_values_are_normalised() -> None:
    parsed = parse_options(
        {
            "schedule": "  0  3 * * 1-5 ",
            "start_date": "2026-03-01T06:30:00+02:00",
            "catchup": "Yes",
            "execution_timeout_seconds": "none",
            "max_active_tasks": "4",
            "python": "/opt/env/../env/bin/python",
        }
    )
    assert parsed["schedule"] == "0 3 * * 1-5"
    assert parsed["start_date"] == "2026-03-01T06:30:00+02:00"
    assert parsed["catchup"] is True
    assert parsed["execution_timeout_seconds"] is None
    assert parsed["max_active_tasks"] == 4
    assert parsed["python"] == "/opt/env/bin/python"
    assert parse_options({"schedule": "none"})["schedule"] is None


def test_ir_that_airflow_cannot_name_is_refused(hello: dict[str, Any]) -> None:
    bad = copy.deepcopy(hello)
    bad["nodes"][1]["id"] = "bad id"
    with pytest.raises(HeadraceError, match="IR node 1 has id 'bad id'"):
        compile_dag(bad, options={})
    bad = copy.deepcopy(hello)
    bad["nodes"][1]["upstream"] = ["Nowhere"]
    with pytest.raises(HeadraceError, match="upstream node 'Nowhere'"):
        compile_dag(bad, options={})
    bad = copy.deepcopy(hello)
    bad["pipeline"]["name"] = "two words"
    with pytest.raises(HeadraceError, match="--option dag_id"):
        compile_dag(bad, options={})
    assert compile_dag(bad, options={"dag_id": "two_words"})
    # The DAG's last task, which closes the run, has its own id; a node cannot take it.
    bad = copy.deepcopy(hello)
    bad["nodes"][0]["id"] = FINISH_TASK_ID
    with pytest.raises(HeadraceError, match="the DAG's own last task"):
        compile_dag(bad, options={})
    assert f"FINISH_TASK_ID = {json.dumps(FINISH_TASK_ID)}\n" in compile_dag(hello, options={})


def test_cli_reports_a_bad_option(tmp_path: Path) -> None:
    out = tmp_path / "dag.py"
    proc = subprocess.run(
        [*CLI, "compile", str(HELLO), "--target=airflow", "-o", str(out), "--option=retries=lots"],
        env={**os.environ, "HELLO_ROOT": str(tmp_path / "root")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "airflow option retries='lots'" in proc.stderr
    assert not out.exists()


def test_a_password_in_the_metadata_option_or_the_ir_is_refused(hello: dict[str, Any]) -> None:
    # The DAG file and every task's command line would carry it.
    url = "mysql://headrace:s3cret@db:3306/mlmd"
    with pytest.raises(HeadraceError) as raised:
        parse_options({"metadata": url})
    message = str(raised.value)
    assert "airflow option metadata='mysql://headrace:***@db:3306/mlmd'" in message
    assert "HEADRACE_METADATA_PASSWORD" in message
    assert "s3cret" not in message
    document = copy.deepcopy(hello)
    document["pipeline"]["metadata_connection_config"] = url
    with pytest.raises(HeadraceError) as raised:
        compile_dag(document, options={})
    assert "metadata_connection_config='mysql://headrace:***@db:3306/mlmd'" in str(raised.value)
    assert "s3cret" not in str(raised.value)
    # Without the password the URL is a reference, and the DAG keeps it.
    document["pipeline"]["metadata_connection_config"] = "mysql://headrace@db:3306/mlmd"
    assert "mysql://headrace@db:3306/mlmd" in compile_dag(document, options={})


def test_a_pipeline_files_password_never_reaches_the_dag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The DSL keeps the password in the process that loaded the pipeline file.
    from headrace_core import ir
    from headrace_core.pipeline_file import load_pipeline_file

    pipeline_file = tmp_path / "with_password.py"
    pipeline_file.write_text(
        "import importlib.util, os, sys\n"
        "from headrace_core import Pipeline\n"
        f"sys.path.insert(0, {str(HELLO.parent)!r})\n"
        f"spec = importlib.util.spec_from_file_location('hello_pipeline', {str(HELLO)!r})\n"
        "hello = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(hello)\n"
        "def create_pipeline():\n"
        "    p = hello.create_pipeline()\n"
        "    return Pipeline(pipeline_name='hello', pipeline_root=p.pipeline_root,\n"
        "        components=list(p.components), metadata_connection_config=os.environ['URL'])\n"
    )
    monkeypatch.setenv("URL", "mysql://headrace:Pw0nlyHere@db:3306/mlmd")
    monkeypatch.setenv("HELLO_ROOT", str(tmp_path / "root"))
    dag = compile_dag(ir.compile(load_pipeline_file(str(pipeline_file))), options={})
    assert "mysql://headrace@db:3306/mlmd" in dag
    assert "Pw0nlyHere" not in dag
