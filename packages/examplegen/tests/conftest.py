"""Fixtures for headrace-examplegen's tests.

The real data sets live in ``<repo>/../shared/data`` (override with ``HEADRACE_TEST_DATA``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from examplegen_helpers import data_file


@pytest.fixture
def taxi_csv() -> Path:
    return data_file("chicago_taxi", "data.csv")


@pytest.fixture
def penguin_csv() -> Path:
    return data_file("penguin", "penguins_processed.csv")


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    path = tmp_path / "input"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _quiet_beam_logs() -> Iterator[None]:
    logger = logging.getLogger("apache_beam")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
