"""Transform in pipelines run by LocalDagRunner: Importers feed it, a second run is cached, an
edited module file re-runs it, a broken one fails it and publishes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hrtf_util import MODULES, Data, read_examples

from headrace_core import Examples, Importer, Pipeline, Schema
from headrace_core.orchestration.local import LocalDagRunner, RunResult


def _pipeline(root: Path, data: Data, module_file: Path) -> Pipeline:
    from headrace_transform import Transform

    examples = Importer(
        source_uri=data.examples.uri,
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("ImportExamples")
    schema = Importer(source_uri=data.schema.uri, artifact_type=Schema).with_id("ImportSchema")
    transform = Transform(
        examples=examples.outputs["result"],
        schema=schema.outputs["result"],
        module_file=str(module_file),
    )
    return Pipeline("transform", str(root), [examples, schema, transform])


def _statuses(result: RunResult) -> dict[str, str]:
    return {n: r.status for n, r in result.results.items()}


def test_run_cache_and_module_edit(
    pipeline_root: Path, tmp_path: Path, penguin: Data, tft: Any
) -> None:
    module = tmp_path / "module" / "preprocessing.py"
    module.parent.mkdir()
    shutil.copyfile(MODULES / "penguin_preprocessing.py", module)
    pipeline = _pipeline(pipeline_root, penguin, module)

    first = LocalDagRunner(max_parallel=2).run(pipeline)
    assert first.succeeded, first.to_json()
    assert _statuses(first) == {
        "ImportExamples": "complete",
        "ImportSchema": "complete",
        "Transform": "complete",
    }
    outputs = first.results["Transform"].outputs
    [graph] = outputs["transform_graph"]
    [examples] = outputs["transformed_examples"]
    [cache] = outputs["updated_analyzer_cache"]
    execution = first.results["Transform"].execution_id
    assert Path(graph.uri) == pipeline_root / "Transform" / "transform_graph" / str(execution)
    assert examples.split_names == '["train", "eval"]'
    assert examples.span == 0
    assert cache.custom_properties["cache_entries_written"] == 4
    assert "body_mass_g_xf" in tft.TFTransformOutput(graph.uri).transformed_feature_spec()
    assert len(read_examples(Path(examples.uri) / "Split-eval")) == 112

    second = LocalDagRunner(max_parallel=2).run(pipeline)
    assert second.succeeded
    assert _statuses(second)["Transform"] == "cached"
    [again] = second.results["Transform"].outputs["transform_graph"]
    assert again.id == graph.id

    # A new output name proves the edited file ran, not a module cached in this process.
    module.write_text(module.read_text().replace('f"{key}_xf"', 'f"{key}_scaled"'))
    third = LocalDagRunner(max_parallel=2).run(pipeline)
    assert third.succeeded, third.to_json()
    assert _statuses(third)["Transform"] == "complete"
    [edited] = third.results["Transform"].outputs["transform_graph"]
    features = tft.TFTransformOutput(edited.uri).transformed_feature_spec()
    assert "body_mass_g_scaled" in features and "body_mass_g_xf" not in features


def test_broken_module_fails_the_node_and_publishes_nothing(
    pipeline_root: Path, penguin: Data
) -> None:
    result = LocalDagRunner(max_parallel=2).run(
        _pipeline(pipeline_root, penguin, MODULES / "no_function.py")
    )
    assert result.failed_nodes == ["Transform"]
    node = result.results["Transform"]
    assert node.message.startswith("UserModuleError: Transform: module_file ")
    assert "no_function.py defines no function 'preprocessing_fn'" in node.message
    assert not node.outputs
    assert not list((pipeline_root / "Transform").glob("*/*"))
