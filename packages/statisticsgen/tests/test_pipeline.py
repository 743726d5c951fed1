"""StatisticsGen in a pipeline run by the LocalDagRunner: Importer -> StatisticsGen, twice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from headrace_core import Examples, Importer, Pipeline
from headrace_core.cli import main as headrace
from headrace_core.orchestration import LocalDagRunner
from headrace_core.runtime import Status
from headrace_statisticsgen import StatisticsGen
from headrace_tfdv_io.testing import ExamplesFixture


def _pipeline(root: Path, examples_uri: Path) -> Pipeline:
    examples = Importer(
        source_uri=str(examples_uri),
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0, "version": 0},
    ).with_id("examples")
    statistics = StatisticsGen(examples=examples.outputs["result"])
    return Pipeline("statisticsgen-test", str(root), [examples, statistics])


def test_pipeline_runs_then_caches(
    penguin_examples: ExamplesFixture,
    pipeline_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runner = LocalDagRunner(max_parallel=1)
    first = runner.run(_pipeline(pipeline_root, penguin_examples.uri))
    assert first.succeeded, {k: v.message for k, v in first.results.items()}
    node = first.results["StatisticsGen"]
    assert node.status == Status.COMPLETE
    (statistics,) = node.outputs["statistics"]
    assert statistics.uri == os.path.join(
        str(pipeline_root), "StatisticsGen", "statistics", str(node.execution_id)
    )
    assert json.loads(statistics.split_names) == ["train", "eval"]
    assert statistics.span == 0
    for split in ("train", "eval"):
        assert os.path.isfile(os.path.join(statistics.uri, f"Split-{split}", "FeatureStats.pb"))

    second = runner.run(_pipeline(pipeline_root, penguin_examples.uri))
    assert second.succeeded
    assert second.results["StatisticsGen"].status == Status.CACHED
    (cached,) = second.results["StatisticsGen"].outputs["statistics"]
    assert cached.id == statistics.id

    # `headrace show` finds the viewer through the plugin registry.
    capsys.readouterr()
    assert headrace(["show", str(statistics.id), "--pipeline-root", str(pipeline_root)]) == 0
    shown = capsys.readouterr().out
    assert "Split train: 223 examples, 5 features" in shown
    assert "body_mass_g" in shown
    assert f"HTML view: {os.path.join(statistics.uri, 'statistics.html')}" in shown
