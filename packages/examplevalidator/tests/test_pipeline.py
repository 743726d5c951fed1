"""ExampleValidator in pipelines run by LocalDagRunner: Importers feed it, a Cond on its
``blessed`` property guards the node that would train on the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hrev_components import TrainOnValidated
from hrev_util import PENGUIN, anomalies_of, write_schema, write_statistics

from headrace_core import (
    Cond,
    ExampleStatistics,
    Importer,
    LatestArtifactStrategy,
    Pipeline,
    Resolver,
    Schema,
)
from headrace_core.orchestration.local import LocalDagRunner, RunResult
from headrace_core.testing import show_artifact

SPLITS = '["train", "eval"]'


def _pipeline(
    root: Path,
    stats_uri: Path,
    schema_uri: Path,
    *,
    name: str = "validate",
    fail_on_anomalies: bool = False,
) -> Pipeline:
    from headrace_examplevalidator import ExampleValidator

    stats = Importer(
        source_uri=str(stats_uri),
        artifact_type=ExampleStatistics,
        properties={"split_names": SPLITS, "span": 0},
    ).with_id("ImportStatistics")
    schema = Importer(source_uri=str(schema_uri), artifact_type=Schema).with_id("ImportSchema")
    validator = ExampleValidator(
        statistics=stats.outputs["result"],
        schema=schema.outputs["result"],
        fail_on_anomalies=fail_on_anomalies,
    )
    blessed = validator.outputs["anomalies"].future()[0].custom_property("blessed") == 1
    with Cond(blessed):
        train = TrainOnValidated(anomalies=validator.outputs["anomalies"]).with_id("Train")
    return Pipeline(name, str(root), [stats, schema, validator, train])


@pytest.fixture
def data(tmp_path: Path, penguin_stats: dict[str, Any], penguin_schema: Any) -> dict[str, Path]:
    """Clean penguin statistics, statistics with a column dropped from eval, and a schema."""
    return {
        "clean": Path(write_statistics(tmp_path / "data" / "clean", penguin_stats).uri),
        "schema": Path(write_schema(tmp_path / "data" / "schema", penguin_schema).uri),
    }


@pytest.fixture
def dropped(tmp_path: Path, tfdv: Any, penguin_frames: dict[str, Any], penguin_stats: Any) -> Path:
    eval_stats = tfdv.generate_statistics_from_dataframe(
        penguin_frames["eval"].drop(columns=["body_mass_g"])
    )
    splits = {"train": penguin_stats["train"], "eval": eval_stats}
    return Path(write_statistics(tmp_path / "data" / "dropped", splits).uri)


def _statuses(result: RunResult) -> dict[str, str]:
    return {n: r.status for n, r in result.results.items()}


def test_clean_data_is_validated_then_trained_on_and_cached(
    pipeline_root: Path, data: dict[str, Path]
) -> None:
    pipeline = _pipeline(pipeline_root, data["clean"], data["schema"])
    first = LocalDagRunner(max_parallel=2).run(pipeline)
    assert first.succeeded, first.to_json()
    assert _statuses(first) == {
        "ImportStatistics": "complete",
        "ImportSchema": "complete",
        "ExampleValidator": "complete",
        "Train": "complete",
    }
    [anomalies] = first.results["ExampleValidator"].outputs["anomalies"]
    assert anomalies.custom_properties["blessed"] == 1
    assert anomalies.split_names == SPLITS
    assert anomalies.span == 0
    uri = Path(anomalies.uri)
    assert uri.parent.name == "anomalies" and uri.name == str(
        first.results["ExampleValidator"].execution_id
    )
    assert (uri / "Split-train" / "SchemaDiff.pb").is_file()
    assert (uri / "Split-eval" / "SchemaDiff.pb").is_file()
    [model] = first.results["Train"].outputs["model"]
    assert (Path(model.uri) / "trained_on.txt").read_text() == anomalies.uri

    second = LocalDagRunner(max_parallel=2).run(pipeline)
    assert second.succeeded
    assert _statuses(second)["ExampleValidator"] == "cached"
    assert _statuses(second)["Train"] == "cached"
    [again] = second.results["ExampleValidator"].outputs["anomalies"]
    assert again.id == anomalies.id

    assert anomalies.id is not None
    shown = show_artifact(pipeline_root, anomalies.id)
    assert shown["summary"].splitlines()[1:] == [
        "split 'train': no anomalies",
        "split 'eval': no anomalies",
    ]
    assert shown["html"] == str(uri / "anomalies.html")
    assert shown["data"]["blessed"] == 1


def test_anomalies_skip_the_guarded_node(
    pipeline_root: Path, data: dict[str, Path], dropped: Path
) -> None:
    result = LocalDagRunner(max_parallel=2).run(_pipeline(pipeline_root, dropped, data["schema"]))
    assert result.succeeded  # a skipped node finishes the run
    assert _statuses(result)["ExampleValidator"] == "complete"
    assert _statuses(result)["Train"] == "skipped"
    assert "custom_property('blessed') == 1 is false (value: 0)" in result.results["Train"].message
    [anomalies] = result.results["ExampleValidator"].outputs["anomalies"]
    assert anomalies.custom_properties["blessed_train"] == 1
    assert anomalies.custom_properties["blessed_eval"] == 0

    assert anomalies.id is not None
    shown = show_artifact(pipeline_root, anomalies.id)
    assert shown["summary"].splitlines()[1:] == [
        "split 'train': no anomalies",
        "split 'eval': 1 anomaly",
        "  body_mass_g [ERROR] Column dropped",
        "      Column is completely missing",
    ]


def test_fail_on_anomalies_fails_the_node_and_publishes_nothing(
    pipeline_root: Path, data: dict[str, Path], dropped: Path
) -> None:
    pipeline = _pipeline(pipeline_root, dropped, data["schema"], fail_on_anomalies=True)
    result = LocalDagRunner(max_parallel=2).run(pipeline)
    assert not result.succeeded
    assert result.failed_nodes == ["ExampleValidator"]
    node = result.results["ExampleValidator"]
    assert node.message == (
        "AnomaliesFoundError: ExampleValidator found 1 anomaly (fail_on_anomalies=True): "
        "split 'eval' feature 'body_mass_g': Column dropped"
    )
    assert node.error is not None
    assert (
        "split 'eval', feature 'body_mass_g' [ERROR] Column dropped: Column is completely missing"
        in node.error
    )
    assert "Train" in result.not_run
    assert not node.outputs
    assert not list((pipeline_root / "ExampleValidator").glob("anomalies/*"))

    from headrace_core.metadata import MetadataStore, default_metadata_url

    store = MetadataStore(default_metadata_url(str(pipeline_root)))
    types = {store.artifact_type_name(a.type_id) for a in store.call("get_artifacts")}
    assert "ExampleAnomalies" not in types


def test_drift_against_the_previous_span_through_a_resolver(
    pipeline_root: Path,
    tmp_path: Path,
    tfdv: Any,
    penguin_all_stats: Any,
    penguin_skewed_stats: Any,
) -> None:
    from headrace_examplevalidator import ExampleValidator

    schema_proto = tfdv.infer_schema(penguin_all_stats)
    for feature in schema_proto.feature:
        if feature.name != "species":
            feature.drift_comparator.jensen_shannon_divergence.threshold = 0.01
    schema_uri = write_schema(tmp_path / "schema", schema_proto).uri
    span0 = write_statistics(tmp_path / "span0", {"train": penguin_all_stats}, span=0).uri
    span1 = write_statistics(tmp_path / "span1", {"train": penguin_skewed_stats}, span=1).uri

    previous = Importer(
        source_uri=span0,
        artifact_type=ExampleStatistics,
        properties={"split_names": '["train"]', "span": 0},
    ).with_id("PreviousSpan")
    latest_previous = Resolver(
        strategy_class=LatestArtifactStrategy, statistics=previous.outputs["result"]
    ).with_id("LatestPrevious")
    current = Importer(
        source_uri=span1,
        artifact_type=ExampleStatistics,
        properties={"split_names": '["train"]', "span": 1},
    ).with_id("CurrentSpan")
    schema = Importer(source_uri=schema_uri, artifact_type=Schema).with_id("ImportSchema")
    validator = ExampleValidator(
        statistics=current.outputs["result"],
        schema=schema.outputs["result"],
        baseline_statistics=latest_previous.outputs["statistics"],
    )
    pipeline = Pipeline(
        "drift", str(pipeline_root), [previous, latest_previous, current, schema, validator]
    )
    result = LocalDagRunner(max_parallel=2).run(pipeline)
    assert result.succeeded, result.to_json()
    [anomalies] = result.results["ExampleValidator"].outputs["anomalies"]
    assert anomalies.span == 1
    assert anomalies.custom_properties["blessed"] == 0
    assert anomalies.custom_properties["baseline_statistics_uri"] == span0
    text = (Path(anomalies.uri) / "Split-train" / "anomalies.txt").read_text()
    assert text.splitlines()[:2] == [
        "split 'train': 1 anomaly",
        "  culmen_length_mm [ERROR] High approximate Jensen-Shannon divergence between current "
        "and previous",
    ]


def test_training_serving_skew_with_statistics_from_statistics_gen(
    pipeline_root: Path, tmp_path: Path, tfdv: Any, penguin_all_stats: Any
) -> None:
    # The real StatisticsGen computes both sides: the penguin file as the training data, its
    # skewed copy (one culmen_length_mm of -1) as what the model is served.
    from headrace_core import Examples
    from headrace_examplevalidator import ExampleValidator
    from headrace_statisticsgen import StatisticsGen
    from headrace_tfdv_io.testing import write_examples

    training_uri = tmp_path / "training"
    serving_uri = tmp_path / "serving"
    write_examples(PENGUIN / "penguins_processed.csv", training_uri, splits=("train",))
    write_examples(PENGUIN / "penguins_processed_skewed.csv", serving_uri, splits=("serving",))
    schema_proto = tfdv.infer_schema(penguin_all_stats)
    for name in ("culmen_length_mm", "body_mass_g"):
        feature = tfdv.get_feature(schema_proto, name)
        feature.skew_comparator.jensen_shannon_divergence.threshold = 0.01
    schema_uri = write_schema(tmp_path / "schema", schema_proto).uri

    def examples(uri: Path, split: str, node_id: str) -> Importer:
        return Importer(
            source_uri=str(uri),
            artifact_type=Examples,
            properties={"split_names": f'["{split}"]', "span": 0, "version": 0},
        ).with_id(node_id)

    training = examples(training_uri, "train", "TrainingExamples")
    serving = examples(serving_uri, "serving", "ServingExamples")
    training_stats = StatisticsGen(examples=training.outputs["result"]).with_id("TrainingStats")
    serving_stats = StatisticsGen(examples=serving.outputs["result"]).with_id("ServingStats")
    schema = Importer(source_uri=schema_uri, artifact_type=Schema).with_id("ImportSchema")
    validator = ExampleValidator(
        statistics=training_stats.outputs["statistics"],
        schema=schema.outputs["result"],
        serving_statistics=serving_stats.outputs["statistics"],
    )
    pipeline = Pipeline(
        "skew",
        str(pipeline_root),
        [training, serving, training_stats, serving_stats, schema, validator],
    )
    result = LocalDagRunner(max_parallel=2).run(pipeline)
    assert result.succeeded, result.to_json()
    [anomalies] = result.results["ExampleValidator"].outputs["anomalies"]
    [served] = result.results["ServingStats"].outputs["statistics"]
    assert anomalies.custom_properties["blessed"] == 0
    assert anomalies.custom_properties["serving_statistics_uri"] == served.uri
    assert anomalies.custom_properties["serving_split_name"] == "serving"

    proto = anomalies_of(anomalies.uri, "train")
    assert list(proto.anomaly_info) == ["culmen_length_mm"]  # not body_mass_g
    skew = {".".join(i.path.step): i.skew_measurements[0].value for i in proto.drift_skew_info}
    # StatisticsGen's histograms on Beam: 0.0324 (TFDV's in-memory ones give 0.0335).
    assert skew["culmen_length_mm"] == pytest.approx(0.0324, abs=5e-4)
    assert skew["body_mass_g"] == 0.0

    assert anomalies.id is not None
    shown = show_artifact(pipeline_root, anomalies.id)
    assert shown["summary"].splitlines()[1:4] == [
        f"skew against serving statistics {served.uri}, split 'serving'",
        "split 'train': 1 anomaly",
        "  culmen_length_mm [ERROR] High approximate Jensen-Shannon divergence between "
        "training and serving",
    ]

    again = LocalDagRunner(max_parallel=2).run(pipeline)
    assert _statuses(again)["ExampleValidator"] == "cached"
