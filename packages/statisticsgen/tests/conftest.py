"""Fixtures on the real data; taxi_examples and penguin_examples come from headrace-tfdv-io's
pytest plugin (the CSVs converted as CsvExampleGen would)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def taxi_schema_path(test_data: Path) -> Path:
    return test_data / "chicago_taxi" / "schema_user_provided.pbtxt"
