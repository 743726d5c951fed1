"""Shared set-up: the installed plugins, and statistics and schemas made here with TFDV.

Statistics are computed once per session from the real data (``headrace_core.testing``'s
``test_data``: ``<repo>/../shared/data``, or ``HEADRACE_TEST_DATA``).
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# Fixture modules import by name, as a user's own modules would.
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hrev_util import PENGUIN, TAXI, require, write_schema, write_statistics  # noqa: E402

from headrace_core import ExampleStatistics, Schema  # noqa: E402
from headrace_core.plugins.manager import PluginManager  # noqa: E402


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def tfdv() -> Any:
    import tensorflow_data_validation

    return tensorflow_data_validation


@pytest.fixture
def stats_dir(tmp_path: Path) -> Callable[..., ExampleStatistics]:
    """Writes statistics as an ExampleStatistics artifact: ``make({"train": stats}, span=0)``."""
    counter = iter(range(1000))

    def make(splits: Mapping[str, Any], span: int = 0) -> ExampleStatistics:
        return write_statistics(tmp_path / f"statistics-{next(counter)}", splits, span)

    return make


@pytest.fixture
def schema_dir(tmp_path: Path) -> Callable[[Any], Schema]:
    """Writes a Schema proto as a Schema artifact (``schema.pbtxt``)."""
    counter = iter(range(1000))

    def make(schema: Any) -> Schema:
        return write_schema(tmp_path / f"schema-{next(counter)}", schema)

    return make


@pytest.fixture(scope="session")
def penguin_frames() -> dict[str, Any]:
    """The penguin data in two splits, as ExampleGen's 2:1 split would make them (here
    deterministic: every third row is eval)."""
    import pandas as pd

    frame = pd.read_csv(require(PENGUIN / "penguins_processed.csv"))
    is_eval = frame.index % 3 == 0
    return {
        "train": frame[~is_eval].reset_index(drop=True),
        "eval": frame[is_eval].reset_index(drop=True),
    }


@pytest.fixture(scope="session")
def penguin_stats(tfdv: Any, penguin_frames: dict[str, Any]) -> dict[str, Any]:
    return {s: tfdv.generate_statistics_from_dataframe(f) for s, f in penguin_frames.items()}


@pytest.fixture(scope="session")
def penguin_all_stats(tfdv: Any) -> Any:
    import pandas as pd

    frame = pd.read_csv(require(PENGUIN / "penguins_processed.csv"))
    return tfdv.generate_statistics_from_dataframe(frame)


@pytest.fixture(scope="session")
def penguin_skewed_stats(tfdv: Any) -> Any:
    import pandas as pd

    frame = pd.read_csv(require(PENGUIN / "penguins_processed_skewed.csv"))
    return tfdv.generate_statistics_from_dataframe(frame)


@pytest.fixture(scope="session")
def penguin_schema(tfdv: Any, penguin_stats: dict[str, Any]) -> Any:
    """What SchemaGen infers from the train split."""
    return tfdv.infer_schema(penguin_stats["train"])


@pytest.fixture(scope="session")
def taxi_stats(tfdv: Any) -> Any:
    """The whole taxi file, read as CsvExampleGen reads it: an empty cell is a missing value."""
    return tfdv.generate_statistics_from_csv(str(require(TAXI / "data.csv")))


@pytest.fixture(scope="session")
def taxi_night_stats(tfdv: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The night trips (trip_start_hour < 6), rows copied unchanged from the taxi file."""
    path = tmp_path_factory.mktemp("taxi") / "night.csv"
    with open(require(TAXI / "data.csv"), newline="") as src, open(path, "w", newline="") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst)
        header = next(reader)
        hour = header.index("trip_start_hour")
        writer.writerow(header)
        writer.writerows(row for row in reader if int(row[hour]) < 6)
    return tfdv.generate_statistics_from_csv(str(path))
