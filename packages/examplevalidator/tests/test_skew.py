"""Training/serving skew on the real data: each validated split against one split of
``serving_statistics``, with the schema's skew comparators (TFDV's L-infinity distance and
Jensen-Shannon divergence)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hrev_util import anomalies_of, run_validator

from headrace_core import Artifact, ExampleAnomalies, ExampleStatistics, Schema
from headrace_examplevalidator.viewer import summarize

MakeStats = Callable[..., ExampleStatistics]
MakeSchema = Callable[[Any], Schema]
NUMERIC = ["body_mass_g", "culmen_depth_mm", "culmen_length_mm", "flipper_length_mm"]


def skew_schema(tfdv: Any, stats: Any, threshold: float) -> Any:
    """The schema TFDV infers, with a Jensen-Shannon skew comparator on every numeric feature."""
    schema = tfdv.infer_schema(stats)
    for name in NUMERIC:
        tfdv.get_feature(
            schema, name
        ).skew_comparator.jensen_shannon_divergence.threshold = threshold
    return schema


def skew_of(anomalies: Any) -> dict[str, tuple[str, float, float]]:
    """Feature -> (measure, value, threshold) of its skew measurement; no drift ones allowed."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found = {}
    for info in anomalies.drift_skew_info:
        assert not info.drift_measurements
        [m] = info.skew_measurements
        kind = anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(m.type)
        found[".".join(info.path.step)] = (kind, m.value, m.threshold)
    return found


def reasons(anomalies: Any, feature: str) -> list[str]:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    info = anomalies.anomaly_info[feature]
    return [anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason]


def validate(
    out: Path, statistics: Artifact, schema: Artifact, serving: Artifact, **properties: Any
) -> ExampleAnomalies:
    from headrace_examplevalidator.executor import Executor

    anomalies = ExampleAnomalies(str(out))
    inputs = {"statistics": [statistics], "schema": [schema], "serving_statistics": [serving]}
    Executor().Do(inputs, {"anomalies": [anomalies]}, properties)
    return anomalies


def test_jensen_shannon_skew_of_the_skewed_penguins(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_all_stats: Any,
    penguin_skewed_stats: Any,
    tfdv: Any,
) -> None:
    # The serving file differs from the training file in one cell, a culmen_length_mm of -1
    # instead of 0.269: only that feature's histogram moves.
    schema = schema_dir(skew_schema(tfdv, penguin_all_stats, threshold=0.01))
    training = stats_dir({"train": penguin_all_stats})
    serving = stats_dir({"serving": penguin_skewed_stats})
    out = validate(tmp_path / "out", training, schema, serving)
    assert out.get_custom_property("blessed") == 0
    assert out.get_custom_property("serving_statistics_uri") == serving.uri
    assert out.get_custom_property("serving_split_name") == "serving"
    assert out.get_custom_property("baseline_statistics_uri") is None
    anomalies = anomalies_of(out.uri, "train")
    assert list(anomalies.anomaly_info) == ["culmen_length_mm"]
    assert reasons(anomalies, "culmen_length_mm") == ["COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"]
    assert "between training and serving" in anomalies.anomaly_info["culmen_length_mm"].description
    found = skew_of(anomalies)
    assert sorted(found) == NUMERIC
    assert found["culmen_length_mm"] == (
        "JENSEN_SHANNON_DIVERGENCE",
        pytest.approx(0.0335, abs=5e-4),
        pytest.approx(0.01),
    )
    for name in ("body_mass_g", "culmen_depth_mm", "flipper_length_mm"):
        assert found[name] == ("JENSEN_SHANNON_DIVERGENCE", 0.0, pytest.approx(0.01))

    text = (Path(out.uri) / "Split-train" / "anomalies.txt").read_text()
    assert text.splitlines()[:2] == [
        "split 'train': 1 anomaly",
        "  culmen_length_mm [ERROR] High approximate Jensen-Shannon divergence between "
        "training and serving",
    ]
    assert "    culmen_length_mm: skew JENSEN_SHANNON_DIVERGENCE = 0.0335" in text
    assert "    body_mass_g: skew JENSEN_SHANNON_DIVERGENCE = 0 (threshold 0.01)\n" in text

    out.id = 5
    summary = summarize(out)
    assert summary.text.splitlines()[:3] == [
        f"ExampleAnomalies #5 at {out.uri} (span 0)",
        f"skew against serving statistics {serving.uri}, split 'serving'",
        "split 'train': 1 anomaly",
    ]
    assert summary.data["compared_with"] == {
        "skew": f"serving statistics {serving.uri}, split 'serving'"
    }
    page = (Path(out.uri) / "anomalies.html").read_text()
    assert "<td>culmen_length_mm</td><td>skew</td><td>JENSEN_SHANNON_DIVERGENCE</td>" in page


def test_l_infinity_skew_of_a_categorical_taxi_feature(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    taxi_stats: Any,
    taxi_night_stats: Any,
    tfdv: Any,
) -> None:
    # Trained on every trip, served at night (trip_start_hour < 6): the mix of companies moves
    # more than the mix of payment types.
    schema = tfdv.infer_schema(taxi_stats)
    for name in ("company", "payment_type"):
        tfdv.get_feature(schema, name).skew_comparator.infinity_norm.threshold = 0.01
    out = validate(
        tmp_path / "out",
        stats_dir({"train": taxi_stats}),
        schema_dir(schema),
        stats_dir({"night": taxi_night_stats}),
    )
    anomalies = anomalies_of(out.uri, "train")
    found = skew_of(anomalies)
    assert sorted(found) == ["company", "payment_type"]
    assert found["company"] == ("L_INFTY", pytest.approx(0.0341, abs=5e-4), pytest.approx(0.01))
    assert found["payment_type"][:2] == ("L_INFTY", pytest.approx(0.0072, abs=5e-4))
    assert list(anomalies.anomaly_info) == ["company"]
    assert reasons(anomalies, "company") == ["COMPARATOR_L_INFTY_HIGH"]
    assert "between training and serving" in anomalies.anomaly_info["company"].description


def test_every_split_is_compared_with_the_named_serving_split(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_all_stats: Any,
    penguin_skewed_stats: Any,
    tfdv: Any,
) -> None:
    schema = schema_dir(skew_schema(tfdv, penguin_all_stats, threshold=0.01))
    training = stats_dir({"train": penguin_all_stats, "again": penguin_all_stats})
    serving = stats_dir({"clean": penguin_all_stats, "skewed": penguin_skewed_stats})
    out = validate(tmp_path / "a", training, schema, serving, serving_split_name="skewed")
    for split in ("train", "again"):
        assert list(anomalies_of(out.uri, split).anomaly_info) == ["culmen_length_mm"]
    assert out.get_custom_property("serving_split_name") == "skewed"
    clean = validate(tmp_path / "b", training, schema, serving, serving_split_name="clean")
    assert clean.get_custom_property("blessed") == 1
    assert skew_of(anomalies_of(clean.uri, "train"))["culmen_length_mm"][1] == 0.0


def test_an_ambiguous_or_unknown_serving_split_is_refused(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_all_stats: Any,
    tfdv: Any,
) -> None:
    schema = schema_dir(skew_schema(tfdv, penguin_all_stats, threshold=0.01))
    training = stats_dir({"train": penguin_all_stats})
    serving = stats_dir({"clean": penguin_all_stats, "skewed": penguin_all_stats})
    with pytest.raises(
        ValueError,
        match=r"ExampleValidator: serving_statistics .* has 2 splits \(clean, skewed\); set "
        "serving_split_name",
    ):
        validate(tmp_path / "a", training, schema, serving)
    with pytest.raises(
        ValueError,
        match=r"serving_split_name 'serving' is not a split of serving_statistics .* \(its "
        r"splits: clean, skewed\)",
    ):
        validate(tmp_path / "b", training, schema, serving, serving_split_name="serving")


def test_without_serving_statistics_skew_comparators_are_not_applied(
    tmp_path: Path,
    stats_dir: MakeStats,
    schema_dir: MakeSchema,
    penguin_skewed_stats: Any,
    penguin_all_stats: Any,
    tfdv: Any,
) -> None:
    schema = schema_dir(skew_schema(tfdv, penguin_all_stats, threshold=0.01))
    out = run_validator(tmp_path / "out", stats_dir({"train": penguin_skewed_stats}), schema)
    assert out.get_custom_property("blessed") == 1
    assert not anomalies_of(out.uri, "train").drift_skew_info
    assert out.get_custom_property("serving_statistics_uri") is None
