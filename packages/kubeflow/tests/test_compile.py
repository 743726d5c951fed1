"""``headrace compile --target kubeflow``: a valid, deterministic KFP v2 pipeline spec with one
task per node, KFP's cache off, and options checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfpt_util import FAILING, HELLO, HELLO_NODES, compile_ir, headrace

from headrace_core import HeadraceError
from headrace_kubeflow.compiler import (
    FINISH_TASK,
    OPTIONS,
    compile_pipeline,
    parse_options,
    protect,
    task_name,
)


@pytest.fixture(scope="module")
def hello_ir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return compile_ir(HELLO, tmp_path_factory.mktemp("hello"))


def _spec(text: str) -> dict[str, Any]:
    documents = list(yaml.safe_load_all(text))
    assert len(documents) == 1  # no platform spec unless a task asks for one
    return dict(documents[0])


def _proto(text: str) -> Any:
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = pipeline_spec_pb2.PipelineSpec()
    # Strict: a field the PipelineSpec proto does not know is an error.
    json_format.ParseDict(_spec(text), spec, ignore_unknown_fields=False)
    return spec


def test_cli_compile_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name in ("a.yaml", "b.yaml"):
        out = headrace(
            "compile", str(HELLO), "--target", "kubeflow", "-o", str(tmp_path / name),
            "--option", "image=registry.example.com/headrace:1.0",
            root=tmp_path / "root",
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert "for kubeflow" in out.stderr
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    text = outputs[0].decode()
    assert text.startswith("# headrace pipeline 'hello' for Kubeflow Pipelines v2")
    spec = _spec(text)
    for executor in spec["deploymentSpec"]["executors"].values():
        assert executor["container"]["image"] == "registry.example.com/headrace:1.0"


def test_spec_is_a_valid_pipeline_spec_with_one_task_per_node(
    hello_ir: dict[str, Any], tmp_path: Path
) -> None:
    text = compile_pipeline(hello_ir, options={})
    spec = _proto(text)
    assert spec.pipeline_info.name == "hello"
    assert spec.schema_version == "2.1.0"
    # The nodes' tasks, inside the exit handler; its exit task closes the run after them
    # however they ended.
    root_tasks = spec.root.dag.tasks
    assert sorted(root_tasks) == ["exit-handler-1", FINISH_TASK]
    finish = root_tasks[FINISH_TASK]
    assert list(finish.dependent_tasks) == ["exit-handler-1"]
    assert finish.trigger_policy.strategy == finish.trigger_policy.ALL_UPSTREAM_TASKS_COMPLETED
    assert finish.inputs.parameters["ir"].component_input_parameter == "ir"
    assert finish.inputs.parameters["metadata"].component_input_parameter == "metadata"
    assert finish.caching_options.enable_cache is False
    tasks = spec.components["comp-exit-handler-1"].dag.tasks
    assert sorted(t.task_info.name for t in tasks.values()) == sorted(HELLO_NODES)
    by_node = {t.task_info.name: name for name, t in tasks.items()}
    assert by_node["MakeNumbers"] == "make-numbers"
    for node in hello_ir["nodes"]:
        task = tasks[by_node[node["id"]]]
        # Dependencies from the IR's upstream lists, by .after().
        assert sorted(task.dependent_tasks) == sorted(by_node[u] for u in node["upstream"])
        assert task.inputs.parameters["node"].runtime_value.constant.string_value == node["id"]
        # The exit handler's sub-DAG passes the pipeline parameter on under KFP's name for it.
        assert task.inputs.parameters["ir"].component_input_parameter == "pipelinechannel--ir"
        assert (
            task.inputs.parameters["kfp_run_id"].runtime_value.constant.string_value
            == "{{$.pipeline_job_uuid}}"
        )
    # The IR travels once, as the default of the pipeline parameter `ir`, unchanged.
    ir_default = spec.root.input_definitions.parameters["ir"].default_value.string_value
    assert json.loads(ir_default) == hello_ir
    assert text.count('"nodes":') == 1
    # kfp's own loader takes the file, as `kfp.Client().create_run_from_pipeline_package`
    # and `kfp.local` do.
    from kfp import components

    path = tmp_path / "hello.yaml"
    path.write_text(text)
    loaded = components.load_component_from_file(str(path))
    assert loaded.name == "hello"
    assert set(loaded.component_spec.inputs) == {
        "ir",
        "python",
        "metadata",
        "run_id",
        "result_dir",
    }


def test_kfp_caching_is_off_on_every_task(hello_ir: dict[str, Any]) -> None:
    text = compile_pipeline(hello_ir, options={"retries": "2"})
    tasks = _spec(text)["components"]["comp-exit-handler-1"]["dag"]["tasks"]
    assert len(tasks) == len(hello_ir["nodes"])
    for name, task in tasks.items():
        # In the YAML: the options are there, and enableCache is absent (false) or false.
        assert "cachingOptions" in task, name
        assert task["cachingOptions"].get("enableCache", False) is False, name
        assert task["retryPolicy"]["maxRetryCount"] == 2, name
    spec = _proto(text)
    for task in [
        *spec.components["comp-exit-handler-1"].dag.tasks.values(),
        spec.root.dag.tasks[FINISH_TASK],
    ]:
        assert task.HasField("caching_options")
        assert task.caching_options.enable_cache is False


def test_ir_values_survive_kfp_local_rewriting(tmp_path: Path) -> None:
    # kfp.local's SubprocessRunner replaces "python3" everywhere in a task's command,
    # parameter values included: nothing in the spec's parameters may contain it.
    root = tmp_path / "python3-root"
    document = compile_ir(FAILING, root)
    assert "python3" in json.dumps(document)
    text = compile_pipeline(
        document, options={"python": "/opt/python3/bin/python3", "metadata": ""}
    )
    parameters = _proto(text).root.input_definitions.parameters
    ir_text = parameters["ir"].default_value.string_value
    assert "python3" not in ir_text
    assert json.loads(ir_text) == document
    python = parameters["python"].default_value.string_value
    assert "python3" not in python
    assert python.startswith("json:")
    assert json.loads(python[5:]) == "/opt/python3/bin/python3"
    assert protect("/usr/bin/python") == "/usr/bin/python"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"imgae": "x"}, "unknown kubeflow option 'imgae'; known options: image, python"),
        ({"retries": "two"}, "option retries='two': expected a whole number >= 0"),
        ({"retries": "-1"}, "option retries='-1'"),
        ({"image": ""}, "option image='': give a container image"),
        ({"image": "my image"}, "option image='my image'"),
        ({"metadata": "postgres://db/x"}, "option metadata='postgres://db/x': expected mysql://"),
        ({"metadata": "mysql://u:secret@/db"}, "option metadata='mysql://u:***@/db'"),
        ({"name": "My_Pipeline"}, "option name='My_Pipeline': a KFP pipeline name"),
    ],
)
def test_bad_options_are_refused(options: dict[str, str], message: str) -> None:
    with pytest.raises(HeadraceError) as raised:
        parse_options(options)
    assert message in str(raised.value)
    assert "secret" not in str(raised.value)


def test_good_options_and_defaults() -> None:
    assert parse_options({}) == {
        "image": "python:3.11",
        "python": "",
        "metadata": "",
        "name": "",
        "retries": 0,
    }
    parsed = parse_options(
        {"metadata": "mysql://u@mysql.kubeflow:3306/headrace", "retries": "3", "name": "x-1"}
    )
    assert parsed["retries"] == 3
    assert set(OPTIONS) == {"image", "python", "metadata", "retries", "name"}


def test_a_password_in_the_metadata_option_is_refused(tmp_path: Path) -> None:
    # A parameter default is in the YAML, in KFP's UI and on every task's command line.
    url = "mysql://headrace:s3cret@mysql.kubeflow:3306/headrace"
    with pytest.raises(HeadraceError) as raised:
        parse_options({"metadata": url})
    message = str(raised.value)
    assert "option metadata='mysql://headrace:***@mysql.kubeflow:3306/headrace'" in message
    assert "holds a password" in message
    assert "HEADRACE_METADATA environment variable" in message
    assert "Kubernetes secret" in message
    assert "s3cret" not in message

    spec = tmp_path / "x.yaml"
    out = headrace(
        "compile", str(HELLO), "--target", "kubeflow", "-o", str(spec),
        "--option", f"metadata={url}",
        root=tmp_path / "root",
    )  # fmt: skip
    assert out.returncode != 0
    assert "option metadata='mysql://headrace:***@" in out.stderr
    assert "HEADRACE_METADATA" in out.stderr
    assert "s3cret" not in out.stderr
    assert not spec.exists()


def test_a_password_in_the_pipelines_metadata_url_is_refused(hello_ir: dict[str, Any]) -> None:
    # The spec carries the whole IR, the pipeline's metadata_connection_config included.
    document = json.loads(json.dumps(hello_ir))
    document["pipeline"]["metadata_connection_config"] = "mysql://u:s3cret@db:3306/mlmd"
    with pytest.raises(HeadraceError) as raised:
        compile_pipeline(document)
    message = str(raised.value)
    assert "pipeline 'hello': metadata_connection_config='mysql://u:***@db:3306/mlmd'" in message
    assert "HEADRACE_METADATA" in message
    assert "s3cret" not in message
    # Without the password the URL is no secret, and the IR keeps it.
    document["pipeline"]["metadata_connection_config"] = "mysql://u@db:3306/mlmd"
    ir_text = _proto(compile_pipeline(document)).root.input_definitions.parameters["ir"]
    assert json.loads(ir_text.default_value.string_value) == document


def test_cli_names_the_bad_option(tmp_path: Path) -> None:
    out = headrace(
        "compile", str(HELLO), "--target", "kubeflow", "-o", str(tmp_path / "x.yaml"),
        "--option", "retries=many",
        root=tmp_path / "root",
    )  # fmt: skip
    assert out.returncode != 0
    assert "option retries='many'" in out.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_metadata_and_name_options_reach_the_spec(hello_ir: dict[str, Any]) -> None:
    url = "mysql://headrace@mysql.kubeflow:3306/headrace"
    spec = _proto(compile_pipeline(hello_ir, options={"metadata": url, "name": "hello-prod"}))
    assert spec.pipeline_info.name == "hello-prod"
    assert spec.root.input_definitions.parameters["metadata"].default_value.string_value == url


def test_pipeline_names_become_kfp_names(hello_ir: dict[str, Any]) -> None:
    document = json.loads(json.dumps(hello_ir))
    document["pipeline"]["name"] = "Penguin_Pipeline"
    assert _proto(compile_pipeline(document)).pipeline_info.name == "penguin-pipeline"


@pytest.mark.parametrize(
    ("node_id", "name"),
    [
        ("CsvExampleGen", "csv-example-gen"),
        ("MakeNumbers", "make-numbers"),
        ("trainer_2", "trainer-2"),
        ("HTTPPusher", "http-pusher"),
        ("__", "node"),
    ],
)
def test_task_names(node_id: str, name: str) -> None:
    assert task_name(node_id) == name


def test_bad_documents_are_refused(hello_ir: dict[str, Any]) -> None:
    with pytest.raises(HeadraceError, match="not a headrace IR document: missing 'nodes'"):
        compile_pipeline({"pipeline": {"name": "x", "root": "/tmp/x"}})
    taken = json.loads(json.dumps(hello_ir))
    taken["nodes"][0]["id"] = "HeadraceFinishRun"
    with pytest.raises(HeadraceError, match="the exit handler's, which closes the run"):
        compile_pipeline(taken)
    reordered = json.loads(json.dumps(hello_ir))
    reordered["nodes"].reverse()
    with pytest.raises(HeadraceError, match="node 'Push': upstream node 'Evaluate' is not"):
        compile_pipeline(reordered)


def test_configure_task_sees_every_node(hello_ir: dict[str, Any]) -> None:
    seen: list[str] = []

    def configure(task: Any, node: Any) -> None:
        seen.append(node["id"])
        task.set_cpu_limit("2")

    spec = _spec(compile_pipeline(hello_ir, configure_task=configure))
    # The exit handler's task last: it reaches the store too.
    assert seen == [*HELLO_NODES, FINISH_TASK]
    for executor in spec["deploymentSpec"]["executors"].values():
        assert executor["container"]["resources"]["cpuLimit"] == 2.0


def test_same_spec_as_kfps_own_compiler(hello_ir: dict[str, Any], tmp_path: Path) -> None:
    from kfp import compiler

    from headrace_kubeflow import build_pipeline

    path = tmp_path / "kfp.yaml"
    compiler.Compiler().compile(build_pipeline(hello_ir), str(path))

    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    # Only the header comment differs: kfp's repeats every parameter default, the IR included.
    assert body(compile_pipeline(hello_ir)) == body(path.read_text())
