"""StatisticsGen's executor on the real taxi and penguin data."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from headrace_core import Examples, ExampleStatistics, Schema
from headrace_core.artifacts import encode_split_names
from headrace_core.testing import test_data_dir
from headrace_statisticsgen.executor import Executor, make_stats_options
from headrace_statisticsgen.render import load_statistics
from headrace_statisticsgen.viewer import summarize
from headrace_tfdv_io.testing import ExamplesFixture, write_examples

tfdv = pytest.importorskip("tensorflow_data_validation")

_STATS_TYPES = {"int": "INT", "float": "FLOAT", "bytes": "STRING"}


def _examples(fixture: ExamplesFixture, splits: list[str] | None = None) -> Examples:
    return Examples(
        str(fixture.uri),
        properties={
            "split_names": encode_split_names(splits or fixture.splits),
            "span": 7,
            "version": 0,
        },
    )


def _run(
    examples: Examples,
    out: Path,
    exec_properties: dict | None = None,
    schema: Schema | None = None,
) -> ExampleStatistics:
    statistics = ExampleStatistics(str(out))
    inputs: dict = {"examples": [examples]}
    if schema is not None:
        inputs["schema"] = [schema]
    Executor().Do(inputs, {"statistics": [statistics]}, exec_properties or {})
    return statistics


def _features(path: Path) -> dict[str, object]:
    stats = tfdv.load_stats_binary(str(path))
    assert len(stats.datasets) == 1
    return {".".join(f.path.step): f for f in stats.datasets[0].features}


@pytest.fixture(scope="module")
def taxi_stats(
    taxi_examples: ExamplesFixture, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ExampleStatistics, float]:
    out = tmp_path_factory.mktemp("taxi_stats") / "statistics"
    started = time.perf_counter()
    statistics = _run(_examples(taxi_examples), out)
    elapsed = time.perf_counter() - started
    rows = sum(taxi_examples.counts.values())
    print(f"\nStatisticsGen on taxi: {rows} rows in {elapsed:.2f} s = {rows / elapsed:.0f} rows/s")
    return statistics, elapsed


def test_taxi_statistics_cover_every_feature_and_row(
    taxi_examples: ExamplesFixture, taxi_stats: tuple[ExampleStatistics, float]
) -> None:
    statistics, _ = taxi_stats
    assert len(taxi_examples.types) == 18
    seen: set[str] = set()
    for split, rows in taxi_examples.counts.items():
        path = Path(statistics.uri) / f"Split-{split}" / "FeatureStats.pb"
        stats = tfdv.load_stats_binary(str(path))
        assert stats.datasets[0].num_examples == rows
        features = _features(path)
        # A feature with no value in a split has no statistics there: the taxi data has one
        # pickup_census_tract value in 15,002 rows, and it falls into train.
        present = {c for c in taxi_examples.types if taxi_examples.missing[split][c] < rows}
        assert set(features) == present
        for name, feature in features.items():
            kind = feature.WhichOneof("stats")
            common = getattr(feature, kind).common_stats
            assert common.num_non_missing == rows - taxi_examples.missing[split][name], name
            assert common.num_missing == taxi_examples.missing[split][name], name
        seen |= set(features)
    assert seen == set(taxi_examples.types)
    assert set(_features(Path(statistics.uri) / "Split-train" / "FeatureStats.pb")) == set(
        taxi_examples.types
    )


def test_taxi_statistic_types_and_values(
    taxi_examples: ExamplesFixture, taxi_stats: tuple[ExampleStatistics, float]
) -> None:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    statistics, _ = taxi_stats
    features = _features(Path(statistics.uri) / "Split-train" / "FeatureStats.pb")
    for name, feature in features.items():
        expected = _STATS_TYPES[taxi_examples.types[name]]
        assert statistics_pb2.FeatureNameStatistics.Type.Name(feature.type) == expected, name
    hour = features["trip_start_hour"].num_stats
    assert (hour.min, hour.max) == (0, 23)
    payment = features["payment_type"].string_stats
    assert payment.top_values[0].value == "Cash"
    assert {v.value for v in payment.top_values} <= {
        "Cash", "Credit Card", "Dispute", "No Charge", "Pcard", "Prcard", "Unknown",
    }  # fmt: skip


def test_taxi_output_properties_and_files(
    taxi_examples: ExamplesFixture, taxi_stats: tuple[ExampleStatistics, float]
) -> None:
    statistics, _ = taxi_stats
    assert json.loads(statistics.split_names) == ["train", "eval"]
    assert statistics.span == 7
    for split in ("train", "eval"):
        stats = load_statistics(str(Path(statistics.uri) / f"Split-{split}" / "FeatureStats.pb"))
        assert stats.datasets[0].num_examples == taxi_examples.counts[split]


def test_taxi_html_is_self_contained_and_names_every_feature(
    taxi_examples: ExamplesFixture, taxi_stats: tuple[ExampleStatistics, float]
) -> None:
    statistics, _ = taxi_stats
    pages = [Path(statistics.uri) / f"Split-{s}" / "statistics.html" for s in ("train", "eval")]
    pages.append(Path(statistics.uri) / "statistics.html")
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>")
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I), page
        assert "http://" not in text and "https://" not in text, page
        assert "<script" not in text.lower() and "<link" not in text.lower(), page
        assert "<svg" in text
        for name in taxi_examples.types:
            # pickup_census_tract is absent from eval; the page says so by name.
            assert name in text, (page, name)
    eval_page = pages[1].read_text(encoding="utf-8")
    assert "Absent (no values in this split): pickup_census_tract" in eval_page


def test_viewer_lists_features_per_split(
    taxi_examples: ExamplesFixture, taxi_stats: tuple[ExampleStatistics, float]
) -> None:
    statistics, _ = taxi_stats
    statistics.id = 12
    summary = summarize(statistics)
    assert summary.html_path == os.path.join(statistics.uri, "statistics.html")
    assert os.path.isfile(summary.html_path)
    text = summary.text
    assert "Split train: 10002 examples, 18 features" in text
    assert "Split eval: 5000 examples, 17 features" in text
    assert "absent (no values in this split): pickup_census_tract" in text
    for name in taxi_examples.types:
        assert re.search(rf"^\s+{name}\s", text, re.M), name
    fare = next(line for line in text.splitlines() if line.strip().startswith("fare "))
    assert "FLOAT" in fare and "10002" in fare
    assert set(summary.data["splits"]) == {"train", "eval"}
    assert summary.data["splits"]["train"]["num_examples"] == 10002


def test_penguin_statistics(penguin_examples: ExamplesFixture, tmp_path: Path) -> None:
    statistics = _run(_examples(penguin_examples), tmp_path / "stats")
    assert sum(penguin_examples.counts.values()) == 334
    for split, rows in penguin_examples.counts.items():
        features = _features(tmp_path / "stats" / f"Split-{split}" / "FeatureStats.pb")
        assert set(features) == {
            "species", "culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g",
        }  # fmt: skip
        species = features["species"].num_stats
        assert species.common_stats.num_non_missing == rows
        assert (species.min, species.max) == (0, 2)
        for name in ("culmen_length_mm", "body_mass_g"):
            num = features[name].num_stats
            assert 0 <= num.min <= num.mean <= num.max <= 1
    assert json.loads(statistics.split_names) == ["train", "eval"]


def test_exclude_splits(penguin_examples: ExamplesFixture, tmp_path: Path) -> None:
    statistics = _run(_examples(penguin_examples), tmp_path / "stats", {"exclude_splits": ["eval"]})
    assert json.loads(statistics.split_names) == ["train"]
    assert sorted(os.listdir(statistics.uri)) == ["Split-train", "statistics.html"]


def test_exclude_every_split_fails(penguin_examples: ExamplesFixture, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"every split of the examples \(train, eval\)"):
        _run(
            _examples(penguin_examples),
            tmp_path / "stats",
            {"exclude_splits": ["train", "eval"]},
        )


def test_schema_input_guides_statistics(penguin_examples: ExamplesFixture, tmp_path: Path) -> None:
    # The curated schema, with species declared categorical: TFDV then computes
    # string-like statistics (top values) for it instead of numeric ones.
    curated = (test_data_dir(__file__) / "penguin" / "schema_user_provided.pbtxt").read_text()
    marked = curated.replace(
        'name: "species"\n  type: INT\n',
        'name: "species"\n  type: INT\n  int_domain {\n    is_categorical: true\n  }\n',
    )
    assert marked != curated
    schema_dir = tmp_path / "schema"
    schema_dir.mkdir()
    (schema_dir / "schema.pbtxt").write_text(marked)
    _run(
        _examples(penguin_examples),
        tmp_path / "stats",
        schema=Schema(str(schema_dir)),
    )
    features = _features(tmp_path / "stats" / "Split-train" / "FeatureStats.pb")
    species = features["species"]
    assert species.WhichOneof("stats") == "string_stats"
    assert {v.value for v in species.string_stats.top_values} == {"0", "1", "2"}
    assert features["body_mass_g"].WhichOneof("stats") == "num_stats"


def test_schema_twice_fails(penguin_examples: ExamplesFixture, tmp_path: Path) -> None:
    schema_dir = tmp_path / "schema"
    schema_dir.mkdir()
    shutil.copy(
        test_data_dir(__file__) / "penguin" / "schema_user_provided.pbtxt",
        schema_dir / "schema.pbtxt",
    )
    with pytest.raises(ValueError, match="also contains a schema"):
        _run(
            _examples(penguin_examples),
            tmp_path / "stats",
            {"stats_options": {"schema": {"feature": [{"name": "x", "type": "INT"}]}}},
            schema=Schema(str(schema_dir)),
        )


def test_stats_options_apply(penguin_examples: ExamplesFixture, tmp_path: Path) -> None:
    options = {"num_histogram_buckets": 4, "num_quantiles_histogram_buckets": 4}
    _run(_examples(penguin_examples, ["train"]), tmp_path / "stats", {"stats_options": options})
    mass = _features(tmp_path / "stats" / "Split-train" / "FeatureStats.pb")["body_mass_g"]
    kinds = {h.type: len(h.buckets) for h in mass.num_stats.histograms}
    assert kinds == {0: 4, 1: 4}


def test_stats_options_in_tfdv_json_form() -> None:
    options = make_stats_options(json.loads(tfdv.StatsOptions(num_top_values=3).to_json()))
    assert options.num_top_values == 3
    options = make_stats_options(
        {"num_top_values": 2, "schema": {"feature": [{"name": "x", "type": "BYTES"}]}}
    )
    assert options.num_top_values == 2 and options.schema.feature[0].name == "x"
    with pytest.raises(ValueError, match="invalid stats_options"):
        make_stats_options({"sample_rate": 5.0})


def test_missing_split_directory_is_named(
    penguin_examples: ExamplesFixture, tmp_path: Path
) -> None:
    examples = _examples(penguin_examples, ["train", "test"])
    with pytest.raises(FileNotFoundError, match=r"split 'test' has no directory .*Split-test"):
        _run(examples, tmp_path / "stats")


def test_not_a_tfrecord_file_is_named(tmp_path: Path) -> None:
    split = tmp_path / "examples" / "Split-train"
    split.mkdir(parents=True)
    (split / "data.csv").write_text("a,b\n1,2\n")
    examples = Examples(str(tmp_path / "examples"), properties={"split_names": '["train"]'})
    with pytest.raises(ValueError, match=r"split 'train': .*data\.csv: not a TFRecord file"):
        _run(examples, tmp_path / "stats")


def test_gzip_without_gz_suffix_is_read(tmp_path: Path) -> None:
    # ExampleGen implementations do not all name gzipped shards *.gz; Beam would read those
    # as uncompressed bytes.
    fixture = write_examples(
        test_data_dir(__file__) / "penguin" / "penguins_processed.csv",
        tmp_path / "examples",
        ("train",),
    )
    shard = tmp_path / "examples" / "Split-train" / "data_tfrecord-00000-of-00001.gz"
    shard.rename(shard.with_suffix(""))
    _run(_examples(fixture), tmp_path / "stats")
    stats = tfdv.load_stats_binary(str(tmp_path / "stats" / "Split-train" / "FeatureStats.pb"))
    assert stats.datasets[0].num_examples == 334
