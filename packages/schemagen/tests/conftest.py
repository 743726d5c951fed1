"""Fixtures on the real data: their statistics as StatisticsGen computes them. The Examples
(taxi_examples, penguin_examples) come from headrace-tfdv-io's pytest plugin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from headrace_tfdv_io.testing import ExamplesFixture, write_statistics


@pytest.fixture(scope="session")
def taxi_statistics(
    taxi_examples: ExamplesFixture, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """An ExampleStatistics directory: Split-train and Split-eval FeatureStats.pb."""
    return write_statistics(taxi_examples, tmp_path_factory.mktemp("taxi") / "statistics")


@pytest.fixture(scope="session")
def penguin_statistics(
    penguin_examples: ExamplesFixture, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return write_statistics(penguin_examples, tmp_path_factory.mktemp("penguin") / "statistics")


@pytest.fixture(scope="session")
def curated_taxi_schema(test_data: Path) -> Path:
    return test_data / "chicago_taxi" / "schema_user_provided.pbtxt"


@pytest.fixture(scope="session")
def curated_penguin_schema(test_data: Path) -> Path:
    return test_data / "penguin" / "schema_user_provided.pbtxt"
