"""Fixtures on the real data, converted as CsvExampleGen would (``headrace_tfdv_io.testing``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from headrace_tfdv_io.testing import ExamplesFixture, write_examples


@pytest.fixture(scope="session")
def taxi_examples(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> ExamplesFixture:
    out = tmp_path_factory.mktemp("taxi") / "examples"
    return write_examples(test_data / "chicago_taxi" / "data.csv", out)


@pytest.fixture(scope="session")
def penguin_examples(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> ExamplesFixture:
    out = tmp_path_factory.mktemp("penguin") / "examples"
    return write_examples(test_data / "penguin" / "penguins_processed.csv", out)


@pytest.fixture(scope="session")
def taxi_schema_path(test_data: Path) -> Path:
    return test_data / "chicago_taxi" / "schema_user_provided.pbtxt"
