"""Reading and writing the statistics of one split of an ExampleStatistics artifact."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from headrace_core import ExampleStatistics
from headrace_tfdv_io import (
    InvalidStatisticsError,
    StatisticsNotFoundError,
    load_split_statistics,
    write_split_statistics,
)


def _stats() -> statistics_pb2.DatasetFeatureStatisticsList:
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    stats.datasets.add(num_examples=3).features.add(name="fare")
    return stats


def test_write_then_load(tmp_path: Path) -> None:
    artifact = ExampleStatistics(str(tmp_path))
    path = write_split_statistics(_stats(), artifact, "train")
    assert path == str(tmp_path / "Split-train" / "FeatureStats.pb")
    assert load_split_statistics(artifact, "train") == _stats()


def test_missing_split_names_role_split_and_listing(tmp_path: Path) -> None:
    (tmp_path / "Split-eval").mkdir()
    (tmp_path / "Split-eval" / "other.pb").write_bytes(b"")
    with pytest.raises(StatisticsNotFoundError) as e:
        load_split_statistics(
            ExampleStatistics(str(tmp_path)),
            "eval",
            component="ExampleValidator",
            role="baseline statistics",
        )
    assert str(e.value) == (
        f"ExampleValidator: baseline statistics of split 'eval': no FeatureStats.pb in "
        f"{tmp_path}/Split-eval (it holds other.pb)"
    )


def test_undecodable_and_empty_statistics(tmp_path: Path) -> None:
    artifact = ExampleStatistics(str(tmp_path))
    path = Path(
        write_split_statistics(statistics_pb2.DatasetFeatureStatisticsList(), artifact, "a")
    )
    with pytest.raises(InvalidStatisticsError, match="holds no dataset"):
        load_split_statistics(artifact, "a", component="SchemaGen")
    path.write_bytes(b"\xff\xff\xff")
    with pytest.raises(InvalidStatisticsError, match="is not a serialized"):
        load_split_statistics(artifact, "a", component="SchemaGen")
