"""The executor on the real data: TFDV's validation, split by split, in TFX's layout."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hrev_util import PENGUIN, TAXI, anomalies_of, curated_schema, run_validator

from headrace_core import ExampleStatistics, Schema
from headrace_examplevalidator import AnomaliesFoundError

MakeStats = Callable[..., ExampleStatistics]
MakeSchema = Callable[[Any], Schema]
NUMERIC = ["body_mass_g", "culmen_depth_mm", "culmen_length_mm", "flipper_length_mm"]


def reason_types(anomalies: Any, feature: str) -> list[str]:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    return [
        anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in anomalies.anomaly_info[feature].reason
    ]


def measurements(anomalies: Any) -> dict[str, tuple[float, float]]:
    """Feature -> (value, threshold) of its drift measurement."""
    found = {}
    for info in anomalies.drift_skew_info:
        [m] = info.drift_measurements
        found[".".join(info.path.step)] = (m.value, m.threshold)
    return found


# Clean data ----------------------------------------------------------------------------------


def test_penguin_against_its_inferred_schema_is_clean(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_schema: Any,
) -> None:
    out = run_validator(
        tmp_path / "out", stats_dir(penguin_stats, span=3), schema_dir(penguin_schema)
    )
    assert json.loads(out.split_names) == ["train", "eval"]
    assert out.span == 3
    assert out.custom_properties == {
        "blessed": 1,
        "blessed_train": 1,
        "blessed_eval": 1,
        "num_anomalies": 0,
        "num_anomalies_train": 0,
        "num_anomalies_eval": 0,
    }
    for split in ("train", "eval"):
        anomalies = anomalies_of(out.uri, split)
        assert not anomalies.anomaly_info
        assert not anomalies.HasField("dataset_anomaly_info")
        assert not anomalies.data_missing
        # TFX's SchemaDiff.pb carries the schema it was checked against.
        assert [f.name for f in anomalies.baseline.feature] == [
            f.name for f in penguin_schema.feature
        ]
        text = (Path(out.uri) / f"Split-{split}" / "anomalies.txt").read_text()
        assert text == f"split '{split}': no anomalies\n"
        page = (Path(out.uri) / f"Split-{split}" / "anomalies.html").read_text()
        assert "No anomalies." in page
    assert (Path(out.uri) / "anomalies.html").is_file()


@pytest.mark.parametrize("exclude", [["eval"], '["eval"]'], ids=["list", "tfx-json"])
def test_excluded_splits_are_not_validated(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_schema: Any,
    exclude: Any,
) -> None:
    out = run_validator(
        tmp_path / "out",
        stats_dir(penguin_stats),
        schema_dir(penguin_schema),
        exclude_splits=exclude,
    )
    assert json.loads(out.split_names) == ["train"]
    assert sorted(p.name for p in Path(out.uri).iterdir()) == ["Split-train", "anomalies.html"]
    assert "blessed_eval" not in out.custom_properties
    assert out.get_custom_property("blessed") == 1


def test_curated_penguin_schema_accepts_the_penguin_data(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_skewed_stats: Any,
) -> None:
    schema = schema_dir(curated_schema("penguin"))
    stats = stats_dir({**penguin_stats, "skewed": penguin_skewed_stats})
    out = run_validator(tmp_path / "out", stats, schema)
    assert out.get_custom_property("blessed") == 1
    for split in ("train", "eval", "skewed"):
        assert not anomalies_of(out.uri, split).anomaly_info
    # The curated schema declares types and full presence, no value ranges: the skewed file's
    # culmen_length_mm of -1 passes it (see the domain test below for a schema that catches it).


# Anomalies -------------------------------------------------------------------------------------


@pytest.fixture
def dropped_column(
    tfdv: Any,
    stats_dir: MakeStats,
    penguin_frames: dict[str, Any],
    penguin_stats: dict[str, Any],
) -> ExampleStatistics:
    """Penguin statistics whose eval split lost the body_mass_g column."""
    eval_frame = penguin_frames["eval"].drop(columns=["body_mass_g"])
    return stats_dir(
        {
            "train": penguin_stats["train"],
            "eval": tfdv.generate_statistics_from_dataframe(eval_frame),
        }
    )


def test_a_missing_feature_is_an_anomaly(
    tmp_path: Path, schema_dir: MakeSchema, dropped_column: ExampleStatistics, penguin_schema: Any
) -> None:
    out = run_validator(tmp_path / "out", dropped_column, schema_dir(penguin_schema))
    assert out.custom_properties == {
        "blessed": 0,
        "blessed_train": 1,
        "blessed_eval": 0,
        "num_anomalies": 1,
        "num_anomalies_train": 0,
        "num_anomalies_eval": 1,
    }
    assert not anomalies_of(out.uri, "train").anomaly_info
    anomalies = anomalies_of(out.uri, "eval")
    assert list(anomalies.anomaly_info) == ["body_mass_g"]
    info = anomalies.anomaly_info["body_mass_g"]
    assert info.short_description == "Column dropped"
    assert info.description == "Column is completely missing"
    assert reason_types(anomalies, "body_mass_g") == ["SCHEMA_MISSING_COLUMN"]
    text = (Path(out.uri) / "Split-eval" / "anomalies.txt").read_text()
    assert text.splitlines() == [
        "split 'eval': 1 anomaly",
        "  body_mass_g [ERROR] Column dropped",
        "      Column is completely missing",
    ]


def test_fail_on_anomalies_raises_naming_split_and_feature(
    tmp_path: Path, schema_dir: MakeSchema, dropped_column: ExampleStatistics, penguin_schema: Any
) -> None:
    with pytest.raises(AnomaliesFoundError) as caught:
        run_validator(
            tmp_path / "out",
            dropped_column,
            schema_dir(penguin_schema),
            fail_on_anomalies=True,
        )
    lines = str(caught.value).splitlines()
    assert lines == [
        "ExampleValidator found 1 anomaly (fail_on_anomalies=True): split 'eval' feature "
        "'body_mass_g': Column dropped",
        "  split 'eval', feature 'body_mass_g' [ERROR] Column dropped: "
        "Column is completely missing",
    ]
    assert caught.value.splits == ["eval"]
    assert isinstance(caught.value, ValueError)


def test_fail_on_anomalies_passes_clean_data(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_schema: Any,
) -> None:
    out = run_validator(
        tmp_path / "out",
        stats_dir(penguin_stats),
        schema_dir(penguin_schema),
        fail_on_anomalies=True,
    )
    assert out.get_custom_property("blessed") == 1


def test_a_value_out_of_the_domain_is_an_anomaly(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_all_stats: Any,
    penguin_skewed_stats: Any,
    tfdv: Any,
) -> None:
    # The features are normalised to [0, 1]; the skewed file has one culmen_length_mm of -1.
    schema = tfdv.infer_schema(penguin_all_stats)
    for name in NUMERIC:
        domain = tfdv.get_feature(schema, name).float_domain
        domain.min, domain.max = 0.0, 1.0
    stats = stats_dir({"normal": penguin_all_stats, "skewed": penguin_skewed_stats})
    out = run_validator(tmp_path / "out", stats, schema_dir(schema))
    assert out.get_custom_property("blessed_normal") == 1
    assert out.get_custom_property("blessed_skewed") == 0
    anomalies = anomalies_of(out.uri, "skewed")
    assert list(anomalies.anomaly_info) == ["culmen_length_mm"]
    info = anomalies.anomaly_info["culmen_length_mm"]
    assert info.short_description == "Out-of-range values"
    assert info.description.startswith("Unexpectedly low values: -1<0")
    assert reason_types(anomalies, "culmen_length_mm") == ["FLOAT_TYPE_SMALL_FLOAT"]


# Drift against baseline statistics ---------------------------------------------------------------


def drift_schema(tfdv: Any, stats: Any, threshold: float) -> Any:
    schema = tfdv.infer_schema(stats)
    for name in NUMERIC:
        comparator = tfdv.get_feature(schema, name).drift_comparator
        comparator.jensen_shannon_divergence.threshold = threshold
    return schema


def test_drift_of_the_skewed_penguins_against_a_baseline(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_all_stats: Any,
    penguin_skewed_stats: Any,
    tfdv: Any,
) -> None:
    # penguins_processed_skewed.csv differs from penguins_processed.csv in one cell: row 2's
    # culmen_length_mm is -1 instead of 0.269. Only that feature's histogram moves.
    schema = schema_dir(drift_schema(tfdv, penguin_all_stats, threshold=0.01))
    baseline = stats_dir({"train": penguin_all_stats}, span=0)
    current = stats_dir({"train": penguin_skewed_stats}, span=1)
    out = run_validator(tmp_path / "out", current, schema, baseline)
    assert out.span == 1
    assert out.get_custom_property("blessed") == 0
    assert out.get_custom_property("baseline_statistics_uri") == baseline.uri
    anomalies = anomalies_of(out.uri, "train")
    assert list(anomalies.anomaly_info) == ["culmen_length_mm"]
    assert reason_types(anomalies, "culmen_length_mm") == [
        "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"
    ]
    found = measurements(anomalies)
    assert sorted(found) == NUMERIC
    assert found["culmen_length_mm"] == (pytest.approx(0.0335, abs=5e-4), pytest.approx(0.01))
    for name in ("body_mass_g", "culmen_depth_mm", "flipper_length_mm"):
        assert found[name] == (0.0, pytest.approx(0.01))
    text = (Path(out.uri) / "Split-train" / "anomalies.txt").read_text()
    assert "  culmen_length_mm [ERROR] High approximate Jensen-Shannon divergence" in text
    assert "    culmen_length_mm: drift JENSEN_SHANNON_DIVERGENCE = 0.0335" in text
    assert "(threshold 0.01)  ABOVE THRESHOLD" in text


def test_drift_below_the_threshold_is_measured_but_blessed(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_all_stats: Any,
    penguin_skewed_stats: Any,
    tfdv: Any,
) -> None:
    schema = schema_dir(drift_schema(tfdv, penguin_all_stats, threshold=0.1))
    out = run_validator(
        tmp_path / "out",
        stats_dir({"train": penguin_skewed_stats}),
        schema,
        stats_dir({"train": penguin_all_stats}),
    )
    assert out.get_custom_property("blessed") == 1
    anomalies = anomalies_of(out.uri, "train")
    assert not anomalies.anomaly_info
    assert measurements(anomalies)["culmen_length_mm"][0] == pytest.approx(0.0335, abs=5e-4)


def test_without_a_baseline_drift_comparators_are_not_applied(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_all_stats: Any,
    penguin_skewed_stats: Any,
    tfdv: Any,
) -> None:
    schema = schema_dir(drift_schema(tfdv, penguin_all_stats, threshold=0.01))
    out = run_validator(tmp_path / "out", stats_dir({"train": penguin_skewed_stats}), schema)
    assert out.get_custom_property("blessed") == 1
    assert not anomalies_of(out.uri, "train").drift_skew_info


def test_l_infinity_drift_of_a_categorical_taxi_feature(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    taxi_stats: Any,
    taxi_night_stats: Any,
    tfdv: Any,
) -> None:
    # Night trips (trip_start_hour < 6) against all trips: the mix of companies moves more
    # than the mix of payment types.
    schema = tfdv.infer_schema(taxi_stats)
    for name in ("company", "payment_type"):
        tfdv.get_feature(schema, name).drift_comparator.infinity_norm.threshold = 0.01
    out = run_validator(
        tmp_path / "out",
        stats_dir({"train": taxi_night_stats}),
        schema_dir(schema),
        stats_dir({"train": taxi_stats}),
    )
    anomalies = anomalies_of(out.uri, "train")
    found = measurements(anomalies)
    assert sorted(found) == ["company", "payment_type"]
    assert found["company"][0] == pytest.approx(0.0341, abs=5e-4)
    assert found["payment_type"][0] == pytest.approx(0.0072, abs=5e-4)
    assert "company" in anomalies.anomaly_info
    assert reason_types(anomalies, "company") == ["COMPARATOR_L_INFTY_HIGH"]
    assert "payment_type" not in anomalies.anomaly_info
    # No night trip has a pickup_census_tract, which the whole file has in some rows.
    assert sorted(anomalies.anomaly_info) == ["company", "pickup_census_tract"]
    assert reason_types(anomalies, "pickup_census_tract") == ["FEATURE_TYPE_NOT_PRESENT"]


# The curated taxi schema -------------------------------------------------------------------------


def test_curated_taxi_schema_on_the_taxi_data(
    tmp_path: Path, stats_dir: MakeStats, schema_dir: MakeSchema, taxi_stats: Any
) -> None:
    schema = curated_schema("chicago_taxi")
    out = run_validator(tmp_path / "out", stats_dir({"train": taxi_stats}), schema_dir(schema))
    assert out.get_custom_property("blessed") == 0
    assert out.get_custom_property("num_anomalies") == 4
    anomalies = anomalies_of(out.uri, "train")
    assert sorted(anomalies.anomaly_info) == [
        "company",
        "pickup_community_area",
        "pickup_latitude",
        "pickup_longitude",
    ]

    with open(TAXI / "data.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # The schema requires these three in every example (min_fraction 1.0); two trips lack them.
    for name in ("pickup_community_area", "pickup_latitude", "pickup_longitude"):
        present = sum(1 for row in rows if row[name] != "")
        assert len(rows) - present == 2
        info = anomalies.anomaly_info[name]
        assert info.short_description == "Column dropped"
        assert reason_types(anomalies, name) == ["FEATURE_TYPE_LOW_FRACTION_PRESENT"]
        assert info.description == (
            "The feature was present in fewer examples than expected: minimum fraction = "
            f"1.000000, actual = {present / len(rows):.6f}"
        )
    # company's string_domain lacks some of the companies in the data.
    domain = {v for d in schema.string_domain if d.name == "company" for v in d.value}
    unexpected = sorted({row["company"] for row in rows if row["company"]} - domain)
    assert len(unexpected) == 11
    info = anomalies.anomaly_info["company"]
    assert info.short_description == "Unexpected string values"
    assert reason_types(anomalies, "company") == ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"]
    listed = info.description.removeprefix("Examples contain values missing from the schema: ")
    assert sorted(v.removesuffix(" (<1%)") for v in listed.rstrip(". ").split(", ")) == unexpected


# Bad input -------------------------------------------------------------------------------------


def test_missing_statistics_file_names_the_split(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_schema: Any,
) -> None:
    stats = stats_dir(penguin_stats)
    (Path(stats.uri) / "Split-eval" / "FeatureStats.pb").rename(
        Path(stats.uri) / "Split-eval" / "other.pb"
    )
    with pytest.raises(
        FileNotFoundError, match=r"statistics of split 'eval': no FeatureStats.pb .*other\.pb"
    ):
        run_validator(tmp_path / "out", stats, schema_dir(penguin_schema))


def test_unparsable_schema_names_file_and_line(
    tmp_path: Path, stats_dir: MakeStats, penguin_stats: dict[str, Any]
) -> None:
    schema_uri = tmp_path / "schema"
    schema_uri.mkdir()
    (schema_uri / "schema.pbtxt").write_text('feature {\n  name: "a"\n  typo: FLOAT\n}\n')
    with pytest.raises(ValueError, match=r"schema\.pbtxt:3:"):
        run_validator(tmp_path / "out", stats_dir(penguin_stats), Schema(str(schema_uri)))


def test_a_schema_artifact_holding_one_other_file_is_read(
    tmp_path: Path, stats_dir: MakeStats, penguin_stats: dict[str, Any]
) -> None:
    # As TFX does, a Schema artifact whose only file is not called schema.pbtxt is read too.
    schema_uri = tmp_path / "schema"
    schema_uri.mkdir()
    (schema_uri / "schema_user_provided.pbtxt").write_text(
        (PENGUIN / "schema_user_provided.pbtxt").read_text()
    )
    out = run_validator(tmp_path / "out", stats_dir(penguin_stats), Schema(str(schema_uri)))
    assert out.get_custom_property("blessed") == 1


def test_a_baseline_without_the_split_is_refused(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_schema: Any,
) -> None:
    baseline = stats_dir({"train": penguin_stats["train"]})
    with pytest.raises(
        ValueError, match=r"has no split 'eval' to compare with \(its splits: train\)"
    ):
        run_validator(
            tmp_path / "out", stats_dir(penguin_stats), schema_dir(penguin_schema), baseline
        )


def test_every_split_excluded_is_refused(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_schema: Any,
) -> None:
    with pytest.raises(ValueError, match="every split of the statistics"):
        run_validator(
            tmp_path / "out",
            stats_dir(penguin_stats),
            schema_dir(penguin_schema),
            exclude_splits=["train", "eval"],
        )


def test_statistics_without_split_names_are_refused(
    tmp_path: Path, schema_dir: MakeSchema, penguin_schema: Any
) -> None:
    with pytest.raises(ValueError, match="has no split_names property"):
        run_validator(
            tmp_path / "out", ExampleStatistics(str(tmp_path)), schema_dir(penguin_schema)
        )


def test_legacy_stats_tfrecord_is_read(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_schema: Any,
    tfdv: Any,
) -> None:
    # Older TFX StatisticsGen wrote a TFRecord file of one DatasetFeatureStatisticsList.
    import tensorflow as tf

    stats = stats_dir({"train": penguin_stats["train"]})
    split = Path(stats.uri) / "Split-train"
    (split / "FeatureStats.pb").unlink()
    with tf.io.TFRecordWriter(str(split / "stats_tfrecord")) as writer:
        writer.write(penguin_stats["train"].SerializeToString())
    out = run_validator(tmp_path / "out", stats, schema_dir(penguin_schema))
    assert out.get_custom_property("blessed") == 1


def test_an_unknown_excluded_split_is_reported(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_stats: dict[str, Any],
    penguin_schema: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = run_validator(
        tmp_path / "out",
        stats_dir(penguin_stats),
        schema_dir(penguin_schema),
        exclude_splits=["evaluation"],
    )
    assert json.loads(out.split_names) == ["train", "eval"]
    assert "exclude_splits names evaluation, which the statistics" in caplog.text
