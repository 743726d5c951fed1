"""Fixtures on the real data; helpers are in ``schemagen_testdata``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# pytest runs with --import-mode=importlib, which leaves sys.path alone: make the helper
# module beside this file importable by name.
sys.path.insert(0, str(Path(__file__).parent))

from schemagen_testdata import ExamplesFixture, data_dir, write_examples, write_statistics


@pytest.fixture(scope="session")
def taxi_examples(tmp_path_factory: pytest.TempPathFactory) -> ExamplesFixture:
    out = tmp_path_factory.mktemp("taxi") / "examples"
    return write_examples(data_dir() / "chicago_taxi" / "data.csv", out)


@pytest.fixture(scope="session")
def penguin_examples(tmp_path_factory: pytest.TempPathFactory) -> ExamplesFixture:
    out = tmp_path_factory.mktemp("penguin") / "examples"
    return write_examples(data_dir() / "penguin" / "penguins_processed.csv", out)


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
def curated_taxi_schema() -> Path:
    return data_dir() / "chicago_taxi" / "schema_user_provided.pbtxt"


@pytest.fixture(scope="session")
def curated_penguin_schema() -> Path:
    return data_dir() / "penguin" / "schema_user_provided.pbtxt"
