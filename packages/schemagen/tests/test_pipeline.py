"""SchemaGen and ImportSchemaGen in a pipeline run by the LocalDagRunner, twice.

StatisticsGen is not installed here: the statistics enter through an Importer, from a fixture
computed with TFDV.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from headrace_core import ExampleStatistics, Importer, Pipeline
from headrace_core.cli import main as headrace
from headrace_core.orchestration import LocalDagRunner
from headrace_core.runtime import Status
from headrace_schemagen import ImportSchemaGen, SchemaGen


def _pipeline(root: Path, statistics_uri: Path, schema_file: Path) -> Pipeline:
    statistics = Importer(
        source_uri=str(statistics_uri),
        artifact_type=ExampleStatistics,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("statistics")
    schema_gen = SchemaGen(statistics=statistics.outputs["result"])
    imported = ImportSchemaGen(schema_file=str(schema_file))
    return Pipeline("schemagen-test", str(root), [statistics, schema_gen, imported])


def test_pipeline_runs_then_caches(
    penguin_statistics: Path,
    curated_penguin_schema: Path,
    pipeline_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema_file = tmp_path / "curated" / "schema.pbtxt"
    schema_file.parent.mkdir()
    shutil.copy(curated_penguin_schema, schema_file)
    runner = LocalDagRunner(max_parallel=1)

    first = runner.run(_pipeline(pipeline_root, penguin_statistics, schema_file))
    assert first.succeeded, {k: v.message for k, v in first.results.items()}
    assert first.results["SchemaGen"].status == Status.COMPLETE
    assert first.results["ImportSchemaGen"].status == Status.COMPLETE
    (inferred,) = first.results["SchemaGen"].outputs["schema"]
    assert os.listdir(inferred.uri) == ["schema.pbtxt"]
    (imported,) = first.results["ImportSchemaGen"].outputs["schema"]
    assert (Path(imported.uri) / "schema.pbtxt").read_bytes() == schema_file.read_bytes()

    second = runner.run(_pipeline(pipeline_root, penguin_statistics, schema_file))
    assert second.succeeded
    assert second.results["SchemaGen"].status == Status.CACHED
    assert second.results["ImportSchemaGen"].status == Status.CACHED
    assert second.results["SchemaGen"].outputs["schema"][0].id == inferred.id

    # Editing the curated schema re-runs ImportSchemaGen only: its driver keys on content.
    schema_file.write_text(
        schema_file.read_text().replace("min_fraction: 1.0", "min_fraction: 0.9")
    )
    third = runner.run(_pipeline(pipeline_root, penguin_statistics, schema_file))
    assert third.succeeded
    assert third.results["SchemaGen"].status == Status.CACHED
    assert third.results["ImportSchemaGen"].status == Status.COMPLETE

    capsys.readouterr()
    assert headrace(["show", str(inferred.id), "--pipeline-root", str(pipeline_root)]) == 0
    shown = capsys.readouterr().out
    assert "5 features" in shown
    assert "species" in shown and "INT" in shown and "required" in shown


def test_missing_schema_file_fails_before_running(pipeline_root: Path, tmp_path: Path) -> None:
    node = ImportSchemaGen(schema_file=str(tmp_path / "absent.pbtxt"))
    result = LocalDagRunner(max_parallel=1).run(Pipeline("missing", str(pipeline_root), [node]))
    assert not result.succeeded
    assert result.results["ImportSchemaGen"].status == Status.FAILED
    assert "absent.pbtxt does not exist" in result.results["ImportSchemaGen"].message
