"""A pipeline built from a third-party component and core function components: compiled by the
CLI, read back, run node by node with the executors the IR names, and checked for conformance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import headrace_core
from headrace_core import Artifact, Examples, ExecutorContext, ir
from headrace_core.artifacts import decode_split_names, encode_split_names, split_uri
from headrace_core.executor import BaseExecutor, load_executor_class
from headrace_core.plugins import PluginManager
from headrace_core.testing import check_distribution

pytestmark = pytest.mark.needs_example_plugin

EXAMPLE_DIST = "headrace-example-plugin"
EXAMPLE_PROVIDER = {"distribution": EXAMPLE_DIST, "version": "0.3.1"}
CORE_PROVIDER = {"distribution": "headrace-core", "version": headrace_core.__version__}
EXECUTOR_REF = "headrace_example_plugin.executor:EmbeddingExecutor"


@pytest.fixture
def compiled(run_headrace: Any, pipeline_file: Path, tmp_path: Path) -> Path:
    """The example pipeline compiled by ``headrace compile FILE -o OUT --validate``."""
    out = tmp_path / "ir" / "embedding-demo.json"
    result = run_headrace("compile", str(pipeline_file), "-o", str(out), "--validate")
    assert result.returncode == 0, result.stderr
    assert "compiled 'embedding-demo' (4 nodes)" in result.stderr
    return out


def nodes_by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in document["nodes"]}


# Compilation -----------------------------------------------------------------------------------


def test_compile_records_the_plugin_as_provider(compiled: Path, pipeline_file: Path) -> None:
    document = json.loads(compiled.read_text("utf-8"))
    nodes = nodes_by_id(document)

    assert [n["id"] for n in document["nodes"]] == [
        "StandaloneEmbeddings",
        "MakeExamples",
        "EmbeddingGen",
        "CountVectors",
    ]
    for node_id, parameters in (
        ("EmbeddingGen", {"dimension": 8, "num_vectors": 4}),
        ("StandaloneEmbeddings", {"dimension": 3, "num_vectors": 2}),
    ):
        node = nodes[node_id]
        assert node["provider"] == EXAMPLE_PROVIDER
        assert node["class"] == "headrace_example_plugin.component:EmbeddingGen"
        assert node["executor"] == EXECUTOR_REF
        assert node["source_file"] is None  # installed: importable by name anywhere
        assert node["parameters"] == parameters
        assert node["outputs"]["embeddings"]["type"] == "Embeddings"
    examples_input = nodes["EmbeddingGen"]["inputs"]["examples"]
    assert list(nodes["EmbeddingGen"]["inputs"]) == ["examples"]
    assert {k: examples_input[k] for k in ("type", "producer", "output")} == {
        "type": "Examples",
        "producer": "MakeExamples",
        "output": "examples",
    }
    # Newer IR minor versions also record whether the input is optional; it is here.
    assert examples_input.get("optional", True) is True
    assert nodes["StandaloneEmbeddings"]["inputs"] == {}

    # Function components defined in the pipeline file: no provider, found by source file.
    for node_id in ("MakeExamples", "CountVectors"):
        assert nodes[node_id]["provider"] is None
        assert nodes[node_id]["source_file"] == str(pipeline_file)

    artifact_types = document["artifact_types"]
    assert artifact_types["Embeddings"] == {
        "class": "headrace_example_plugin.artifacts:Embeddings",
        "properties": {"dimension": "INT"},
        "provider": EXAMPLE_PROVIDER,
    }
    assert artifact_types["Examples"]["provider"] == CORE_PROVIDER
    assert artifact_types["Integer"]["provider"] == CORE_PROVIDER


def test_compile_is_deterministic_across_processes(
    compiled: Path, run_headrace: Any, pipeline_file: Path
) -> None:
    again = run_headrace("compile", str(pipeline_file))  # to standard output

    assert again.returncode == 0, again.stderr
    assert again.stdout.encode("utf-8") == compiled.read_bytes()


def test_ir_round_trips_to_identical_bytes(compiled: Path, plugin_manager: PluginManager) -> None:
    text = compiled.read_bytes()

    pipeline = ir.load(text.decode("utf-8"), plugins=plugin_manager)
    document = ir.compile(pipeline, plugins=plugin_manager)
    ir.validate(document)

    assert ir.dumps(document).encode("utf-8") == text
    node = pipeline.nodes_by_id["EmbeddingGen"]
    assert type(node).__module__ == "headrace_example_plugin.component"
    assert node.exec_properties == {"dimension": 8, "num_vectors": 4}


# Execution -------------------------------------------------------------------------------------


def run_executor(
    node: dict[str, Any],
    input_dict: dict[str, list[Artifact]],
    output_dict: dict[str, list[Artifact]],
    tmp_dir: Path,
) -> None:
    executor_class = load_executor_class(node["executor"], source_file=node["source_file"])
    assert issubclass(executor_class, BaseExecutor)
    context = ExecutorContext(
        pipeline_name="embedding-demo", node_id=node["id"], tmp_dir=str(tmp_dir)
    )
    executor_class(context).Do(input_dict, output_dict, dict(node["parameters"]))


def test_embedding_executor_runs_on_real_artifacts(
    compiled: Path, plugin_manager: PluginManager, tmp_path: Path
) -> None:
    node = nodes_by_id(json.loads(compiled.read_text("utf-8")))["EmbeddingGen"]
    embeddings_class = plugin_manager.artifact_types.get("Embeddings")
    examples = Examples(str(tmp_path / "examples"), properties={"span": 0})
    examples.split_names = encode_split_names(["train", "eval"])
    for split in ("train", "eval"):
        Path(split_uri(examples, split)).mkdir(parents=True)
    output = embeddings_class(str(tmp_path / "EmbeddingGen" / "embeddings"))

    run_executor(node, {"examples": [examples]}, {"embeddings": [output]}, tmp_path / "tmp")

    assert output.get_property("dimension") == 8
    assert output.get_custom_property("num_vectors") == 2
    written = json.loads((Path(output.uri) / "embeddings.json").read_text("utf-8"))
    assert written["dimension"] == 8
    assert sorted(written["vectors"]) == [f"{examples.uri}#eval", f"{examples.uri}#train"]
    for vector in written["vectors"].values():
        assert len(vector) == 8
        assert all(-1.0 <= x < 1.0 for x in vector)
    # The artifact, property included, survives the trip through ML Metadata's JSON form.
    back = embeddings_class.from_json_dict(output.to_json_dict())
    assert back.to_json_dict() == output.to_json_dict()


def test_embedding_executor_rejects_a_bad_dimension(
    compiled: Path, plugin_manager: PluginManager, tmp_path: Path
) -> None:
    node = nodes_by_id(json.loads(compiled.read_text("utf-8")))["StandaloneEmbeddings"]
    node["parameters"]["dimension"] = 0
    output = plugin_manager.artifact_types.get("Embeddings")(str(tmp_path / "out"))

    with pytest.raises(ValueError, match="dimension must be a positive int"):
        run_executor(node, {}, {"embeddings": [output]}, tmp_path / "tmp")


def test_whole_pipeline_runs_node_by_node_from_the_ir(
    compiled: Path, plugin_manager: PluginManager, tmp_path: Path
) -> None:
    """A minimal runner: topological IR order, one fresh artifact per output, real executors."""
    document = json.loads(compiled.read_text("utf-8"))
    produced: dict[tuple[str, str], Artifact] = {}
    for node in document["nodes"]:
        input_dict = {
            key: [produced[(ref["producer"], ref["output"])]] for key, ref in node["inputs"].items()
        }
        output_dict: dict[str, list[Artifact]] = {}
        for key, output in node["outputs"].items():
            artifact_class = plugin_manager.artifact_types.get(output["type"])
            artifact = artifact_class(str(tmp_path / "root" / node["id"] / key))
            output_dict[key] = [artifact]
            produced[(node["id"], key)] = artifact
        run_executor(node, input_dict, output_dict, tmp_path / "tmp" / node["id"])

    examples = produced[("MakeExamples", "examples")]
    assert decode_split_names(str(examples.get_property("split_names"))) == ["train", "eval"]
    assert (Path(split_uri(examples, "train")) / "data.csv").is_file()

    embeddings = produced[("EmbeddingGen", "embeddings")]
    assert embeddings.get_property("dimension") == 8
    assert embeddings.get_custom_property("num_vectors") == 2

    standalone = produced[("StandaloneEmbeddings", "embeddings")]
    assert standalone.get_property("dimension") == 3
    assert standalone.get_custom_property("num_vectors") == 2

    count = produced[("CountVectors", "count")]
    dimension = produced[("CountVectors", "dimension")]
    assert count.get_custom_property("value") == 2
    assert dimension.get_custom_property("value") == 8
    assert (Path(count.uri) / "value").read_text("ascii") == "2"


# Conformance -----------------------------------------------------------------------------------


def test_example_distribution_passes_the_conformance_kit(plugin_manager: PluginManager) -> None:
    checked = check_distribution(EXAMPLE_DIST)

    assert sorted(checked) == ["EmbeddingGen", "Embeddings"]
