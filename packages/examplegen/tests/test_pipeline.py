"""CsvExampleGen in a pipeline run by LocalDagRunner: caching on input content, failures."""

from __future__ import annotations

import json
import os
from pathlib import Path

from examplegen_helpers import copy_into, decode, split_records, write

from headrace_core import Examples, OutputArtifact, Parameter, Pipeline, String, component
from headrace_core.artifacts import ArtifactState
from headrace_core.metadata import MetadataStore, artifact_from_proto, custom
from headrace_core.orchestration import LocalDagRunner
from headrace_examplegen import CsvExampleGen


def _store_state(url: str) -> tuple[list[str], list[Examples]]:
    """(status of every ExampleGen execution, oldest first; every Examples artifact)."""
    store = MetadataStore(url)
    executions = sorted(store.call("get_executions"), key=lambda e: e.id)
    statuses = [custom(e, "status") for e in executions if custom(e, "node_id") == "CsvExampleGen"]
    artifacts = [
        artifact_from_proto(p, Examples) for p in store.call("get_artifacts_by_type", "Examples")
    ]
    return statuses, artifacts


def test_cached_until_the_input_changes(tmp_path: Path, penguin_csv: Path) -> None:
    input_base = tmp_path / "input"
    data = copy_into(penguin_csv, input_base)
    pipeline = Pipeline(
        "examplegen-test", str(tmp_path / "root"), [CsvExampleGen(input_base=str(input_base))]
    )
    runner = LocalDagRunner()

    first = runner.run(pipeline)
    assert first.succeeded
    result = first.results["CsvExampleGen"]
    assert result.status == "complete"
    (examples,) = result.outputs["examples"]
    assert examples.state is ArtifactState.LIVE
    assert examples.span == 0
    assert examples.get_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    assert sum(len(r) for r in split_records(examples).values()) == 334

    second = runner.run(pipeline)
    cached = second.results["CsvExampleGen"]
    assert cached.status == "cached"
    assert [a.id for a in cached.outputs["examples"]] == [examples.id]

    stat = data.stat()  # a new timestamp alone is no change
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5 * 10**9))
    assert runner.run(pipeline).results["CsvExampleGen"].status == "cached"

    (prediction,) = runner.plan(pipeline)
    assert prediction.status == "cached"
    with open(data, "a", encoding="utf-8") as f:
        f.write("2,0.5,0.5,0.5,0.5\n")
    (prediction,) = runner.plan(pipeline)
    assert prediction.status == "run"

    third = runner.run(pipeline)
    rerun = third.results["CsvExampleGen"]
    assert rerun.status == "complete"
    (newer,) = rerun.outputs["examples"]
    assert newer.id != examples.id
    assert sum(len(r) for r in split_records(newer).values()) == 335
    assert newer.get_custom_property("input_fingerprint") != examples.get_custom_property(
        "input_fingerprint"
    )

    statuses, artifacts = _store_state(first.metadata_url)
    assert statuses == ["complete", "cached", "cached", "complete"]
    assert sorted(a.id for a in artifacts) == sorted([examples.id, newer.id])
    assert all(a.state is ArtifactState.LIVE for a in artifacts)
    assert {a.split_names for a in artifacts} == {'["train", "eval"]'}


def test_bad_input_fails_and_publishes_nothing(tmp_path: Path, input_dir: Path) -> None:
    write(input_dir / "good.csv", "a,b\n1,2\n")
    bad = write(input_dir / "bad.csv", "a,b\n1,2\n3\n")
    root = tmp_path / "root"
    pipeline = Pipeline("examplegen-fail", str(root), [CsvExampleGen(input_base=str(input_dir))])
    result = LocalDagRunner().run(pipeline)
    assert not result.succeeded
    failed = result.results["CsvExampleGen"]
    assert failed.status == "failed"
    assert f"{bad}, line 3: 1 fields where the header has 2" in failed.message
    statuses, artifacts = _store_state(result.metadata_url)
    assert statuses == ["failed"]
    assert artifacts == []
    assert (
        not list((root / "CsvExampleGen").rglob("*.gz"))
        if (root / "CsvExampleGen").exists()
        else True
    )


def test_missing_input_fails_in_the_driver(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    pipeline = Pipeline(
        "examplegen-missing", str(tmp_path / "root"), [CsvExampleGen(input_base=str(missing))]
    )
    result = LocalDagRunner().run(pipeline)
    failed = result.results["CsvExampleGen"]
    assert failed.status == "failed"
    assert f"input_base {missing} does not exist" in failed.message
    statuses, artifacts = _store_state(result.metadata_url)
    assert statuses == ["failed"] and artifacts == []


@component
def RangeConfigGenerator(span: Parameter[int], range_config: OutputArtifact[String]) -> None:
    """As TFX's penguin_pipeline_local: a range_config made by a component, as JSON text."""
    static = {"start_span_number": span, "end_span_number": span}
    range_config.value = json.dumps({"static_range": static})


def test_a_range_config_made_upstream_selects_the_span(tmp_path: Path) -> None:
    base = tmp_path / "input"
    for span in (1, 2, 3):
        write(base / f"span-{span}" / "data.csv", f"span_value\n{span}\n{span}\n{span}\n")

    def pipeline(span: int) -> Pipeline:
        generator = RangeConfigGenerator(span=span)
        example_gen = CsvExampleGen(
            input_base=str(base),
            input_config={"splits": [{"name": "single_split", "pattern": "span-{SPAN}/*"}]},
            range_config=generator.outputs["range_config"].future()[0].value,
        )
        return Pipeline("ranged", str(tmp_path / "root"), [generator, example_gen])

    runner = LocalDagRunner()
    for span in (2, 1):
        result = runner.run(pipeline(span))
        assert result.succeeded, result.to_json()
        [examples] = result.results["CsvExampleGen"].outputs["examples"]
        assert examples.span == span
        records = [r for rs in split_records(examples).values() for r in rs]
        assert {row["span_value"][0] for row in decode(records)} == {span}
    assert runner.run(pipeline(1)).results["CsvExampleGen"].status == "cached"
