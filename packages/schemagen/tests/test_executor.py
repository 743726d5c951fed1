"""SchemaGen's and ImportSchemaGen's executors on the real taxi and penguin data."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from headrace_core import ExampleStatistics, Schema
from headrace_core.artifacts import encode_split_names
from headrace_core.testing import test_data_dir
from headrace_schemagen.driver import import_schema_driver
from headrace_schemagen.executor import Executor, ImportSchemaGenExecutor
from headrace_schemagen.viewer import summarize
from headrace_tfdv_io.testing import ExamplesFixture

tfdv = pytest.importorskip("tensorflow_data_validation")

_SCHEMA_TYPES = {"int": "INT", "float": "FLOAT", "bytes": "BYTES"}


def _infer(statistics: Path, out: Path, **exec_properties: object) -> schema_pb2.Schema:
    stats = ExampleStatistics(
        str(statistics), properties={"split_names": encode_split_names(["train", "eval"])}
    )
    schema = Schema(str(out))
    Executor().Do({"statistics": [stats]}, {"schema": [schema]}, dict(exec_properties))
    assert sorted(p.name for p in out.iterdir()) == ["schema.pbtxt"]
    return tfdv.load_schema_text(str(out / "schema.pbtxt"))


def _features(schema: schema_pb2.Schema) -> dict[str, schema_pb2.Feature]:
    return {f.name: f for f in schema.feature}


def _csv_values(path: Path, column: str) -> set[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return {row[column] for row in csv.DictReader(f) if row[column] != ""}


@pytest.fixture(scope="module")
def taxi_schema(taxi_statistics: Path, tmp_path_factory: pytest.TempPathFactory):
    return _infer(taxi_statistics, tmp_path_factory.mktemp("taxi_schema"))


def test_taxi_types_match_the_data(
    taxi_schema: schema_pb2.Schema, taxi_examples: ExamplesFixture
) -> None:
    features = _features(taxi_schema)
    assert set(features) == set(taxi_examples.types)
    for name, kind in taxi_examples.types.items():
        assert schema_pb2.FeatureType.Name(features[name].type) == _SCHEMA_TYPES[kind], name
    assert features["fare"].type == schema_pb2.FLOAT
    assert features["trip_start_hour"].type == schema_pb2.INT
    assert features["pickup_census_tract"].type == schema_pb2.INT
    assert features["company"].type == schema_pb2.BYTES


def test_taxi_string_domains_hold_every_value(
    taxi_schema: schema_pb2.Schema, taxi_examples: ExamplesFixture
) -> None:
    features = _features(taxi_schema)
    domains = {d.name: set(d.value) for d in taxi_schema.string_domain}
    taxi_csv = test_data_dir(__file__) / "chicago_taxi" / "data.csv"
    for name in ("payment_type", "company"):
        assert features[name].domain == name
        assert domains[name] == _csv_values(taxi_csv, name), name
    assert domains["payment_type"] == {
        "Cash", "Credit Card", "Dispute", "No Charge", "Pcard", "Prcard", "Unknown",
    }  # fmt: skip


def test_taxi_presence_and_shape_follow_missing_values(
    taxi_schema: schema_pb2.Schema, taxi_examples: ExamplesFixture
) -> None:
    features = _features(taxi_schema)
    for name in taxi_examples.types:
        missing = sum(taxi_examples.missing[s][name] for s in taxi_examples.splits)
        feature = features[name]
        if missing == 0:
            # Always present, one value: a fixed shape [1] (infer_feature_shape=True).
            assert feature.presence.min_fraction == 1.0, name
            assert [d.size for d in feature.shape.dim] == [1], name
        else:
            assert feature.presence.min_fraction < 1.0, name
            assert not feature.HasField("shape"), name
            assert (feature.value_count.min, feature.value_count.max) == (1, 1), name
    # No eval row has a pickup_census_tract: merging eval's statistics (tfdv.update_schema,
    # as TFX does) deprecates the feature.
    assert features["pickup_census_tract"].lifecycle_stage == schema_pb2.DEPRECATED
    assert features["fare"].lifecycle_stage == schema_pb2.UNKNOWN_STAGE


def test_infer_feature_shape_false(taxi_statistics: Path, tmp_path: Path) -> None:
    features = _features(_infer(taxi_statistics, tmp_path / "schema", infer_feature_shape=False))
    assert not any(f.HasField("shape") for f in features.values())
    assert (features["fare"].value_count.min, features["fare"].value_count.max) == (1, 1)


def test_exclude_splits(taxi_statistics: Path, tmp_path: Path) -> None:
    train_only = _features(_infer(taxi_statistics, tmp_path / "a", exclude_splits=["eval"]))
    assert train_only["pickup_census_tract"].lifecycle_stage == schema_pb2.UNKNOWN_STAGE
    eval_only = _features(_infer(taxi_statistics, tmp_path / "b", exclude_splits=["train"]))
    assert "pickup_census_tract" not in eval_only
    assert len(eval_only) == 17
    with pytest.raises(ValueError, match=r"every split of the statistics \(train, eval\)"):
        _infer(taxi_statistics, tmp_path / "c", exclude_splits=["train", "eval"])


def test_penguin_schema(penguin_statistics: Path, tmp_path: Path) -> None:
    features = _features(_infer(penguin_statistics, tmp_path / "schema"))
    assert {n: schema_pb2.FeatureType.Name(f.type) for n, f in features.items()} == {
        "species": "INT",
        "culmen_length_mm": "FLOAT",
        "culmen_depth_mm": "FLOAT",
        "flipper_length_mm": "FLOAT",
        "body_mass_g": "FLOAT",
    }
    assert all(f.presence.min_fraction == 1.0 for f in features.values())


def test_missing_statistics_are_named(taxi_statistics: Path, tmp_path: Path) -> None:
    partial = tmp_path / "statistics"
    shutil.copytree(taxi_statistics / "Split-train", partial / "Split-train")
    with pytest.raises(
        FileNotFoundError, match=r"statistics of split 'eval': no FeatureStats\.pb in .*Split-eval"
    ):
        _infer(partial, tmp_path / "schema")


def test_viewer_prints_a_table(taxi_schema: schema_pb2.Schema, tmp_path: Path) -> None:
    (tmp_path / "schema.pbtxt").write_text(text_format.MessageToString(taxi_schema))
    summary = summarize(Schema(str(tmp_path), id=4))
    lines = summary.text.splitlines()
    assert lines[1] == "18 features"
    assert lines[2].split() == ["feature", "type", "presence", "shape/valency", "domain", "note"]
    fare = next(line for line in lines if line.strip().startswith("fare "))
    assert re.search(r"fare\s+FLOAT\s+required\s+shape \[1\]", fare)
    payment = next(line for line in lines if line.strip().startswith("payment_type "))
    assert "BYTES" in payment and "'payment_type': 7 values" in payment
    company = next(line for line in lines if line.strip().startswith("company "))
    assert "optional, min count 1" in company and "1 value" in company
    census = next(line for line in lines if line.strip().startswith("pickup_census_tract "))
    assert "deprecated" in census
    assert "  payment_type: 'Cash', 'Credit Card'" in summary.text
    assert summary.html_path is None
    assert {f["name"] for f in summary.data["features"]} >= {"fare", "company"}


# ImportSchemaGen -----------------------------------------------------------------------------


def _import(source: Path, out: Path) -> Path:
    ImportSchemaGenExecutor().Do({}, {"schema": [Schema(str(out))]}, {"schema_file": str(source)})
    return out / "schema.pbtxt"


@pytest.mark.parametrize("dataset", ["penguin", "chicago_taxi"])
def test_import_curated_schema(dataset: str, tmp_path: Path) -> None:
    source = test_data_dir(__file__) / dataset / "schema_user_provided.pbtxt"
    copied = _import(source, tmp_path / "schema")
    assert copied.read_bytes() == source.read_bytes()
    assert tfdv.load_schema_text(str(copied)) == tfdv.load_schema_text(str(source))


def test_curated_penguin_schema_validates_the_penguin_statistics(
    penguin_statistics: Path, curated_penguin_schema: Path, tmp_path: Path
) -> None:
    schema = tfdv.load_schema_text(str(_import(curated_penguin_schema, tmp_path / "schema")))
    for split in ("train", "eval"):
        stats = tfdv.load_stats_binary(
            str(penguin_statistics / f"Split-{split}" / "FeatureStats.pb")
        )
        anomalies = tfdv.validate_statistics(stats, schema)
        assert dict(anomalies.anomaly_info) == {}, split
        assert not anomalies.HasField("dataset_anomaly_info"), split


def test_curated_taxi_schema_validates_with_known_anomalies(
    taxi_statistics: Path,
    taxi_examples: ExamplesFixture,
    curated_taxi_schema: Path,
    tmp_path: Path,
) -> None:
    """The curated taxi schema (from TFX's example) does not fit its own data exactly:

    - ``pickup_community_area``, ``pickup_latitude`` and ``pickup_longitude`` are declared
      ``presence { min_fraction: 1.0 }``, but 2 of the 15,002 rows lack all three (both rows
      fall into train here): "Column dropped", actual fraction 0.9998 in train;
    - ``company``'s string domain lists 50 of the 61 company names in the data: the other 11
      are "Unexpected string values" (9 of them occur in train, 2 in eval).

    Nothing else is reported; every other feature's type, presence and valency match.
    """
    schema = tfdv.load_schema_text(str(_import(curated_taxi_schema, tmp_path / "schema")))
    required = {f.name for f in schema.feature if f.presence.min_fraction == 1.0}
    company_domain = set(next(d for d in schema.string_domain if d.name == "company").value)
    taxi_csv = test_data_dir(__file__) / "chicago_taxi" / "data.csv"
    with open(taxi_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 15002
    for split in ("train", "eval"):
        stats = tfdv.load_stats_binary(str(taxi_statistics / f"Split-{split}" / "FeatureStats.pb"))
        anomalies = tfdv.validate_statistics(stats, schema)
        info = dict(anomalies.anomaly_info)
        dropped = {c for c in required if taxi_examples.missing[split][c] > 0}
        split_rows = [r for i, r in enumerate(rows) if (i % 3 == 2) == (split == "eval")]
        unknown_companies = {r["company"] for r in split_rows if r["company"]} - company_domain
        expected = set(dropped) | ({"company"} if unknown_companies else set())
        assert set(info) == expected, split
        for name in dropped:
            assert info[name].short_description == "Column dropped"
        assert info["company"].short_description == "Unexpected string values"
        for value in unknown_companies:
            assert value in info["company"].description
        if split == "train":
            assert dropped == {"pickup_community_area", "pickup_latitude", "pickup_longitude"}
            assert len(unknown_companies) == 9
        else:
            assert dropped == set()
            assert unknown_companies == {"585 - Valley Cab Co", "6057 - 24657 Richard Addo"}
        assert not anomalies.HasField("dataset_anomaly_info")


def test_malformed_schema_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad_schema.pbtxt"
    bad.write_text('feature {\n  name: "fare"\n  typ: FLOAT\n}\n')
    with pytest.raises(ValueError) as caught:
        _import(bad, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"ImportSchemaGen: schema {bad}:3:3: not a valid tensorflow_metadata")
    assert '"typ"' in message
    assert not (tmp_path / "out" / "schema.pbtxt").exists()


def test_schema_with_bad_value_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "schema.pbtxt"
    bad.write_text('feature {\n  name: "fare"\n  type: DOUBLE\n}\n')
    with pytest.raises(ValueError, match=rf"{re.escape(str(bad))}:3:\d+: .*DOUBLE"):
        _import(bad, tmp_path / "out")


def test_empty_schema_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "schema.pbtxt"
    empty.write_text("# nothing here\n")
    with pytest.raises(ValueError, match="defines no features"):
        _import(empty, tmp_path / "out")


def test_missing_schema_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        _import(tmp_path / "nope.pbtxt", tmp_path / "out")


def test_driver_keys_on_content(tmp_path: Path) -> None:
    from headrace_core.driver import DriverContext

    source = tmp_path / "schema.pbtxt"
    source.write_text('feature { name: "a" type: INT }\n')

    def key() -> dict:
        context = DriverContext("p", str(tmp_path), "run", "ImportSchemaGen",
                                {"schema_file": str(source)}, {})  # fmt: skip
        return import_schema_driver(context).cache_key

    first = key()
    assert key() == first
    source.write_text('feature { name: "a" type: FLOAT }\n')
    assert key() != first
