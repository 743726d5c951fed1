"""Shared set-up: the installed plugins, and TFX's ExampleDiff pair of penguin data sets.

Once per session, from the real data in ``<repo>/../shared/data`` (``HEADRACE_TEST_DATA``
overrides it), the penguin CSV and its skewed copy become Examples as CsvExampleGen leaves
them (``headrace_tfdv_io.testing.write_examples``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headrace_core.testing import ignore_warnings, importable

TESTS = Path(__file__).parent
importable(TESTS / "support")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from examplediff_testing import PenguinPair  # noqa: E402

from headrace_core.plugins.manager import PluginManager  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Noise from the TensorFlow family's dependencies, nothing this package can act on.
    ignore_warnings(config, "ignore::DeprecationWarning", "ignore::UserWarning:apache_beam.*")


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def penguin_pair(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> PenguinPair:
    from headrace_tfdv_io.testing import write_examples

    root = tmp_path_factory.mktemp("penguin_pair")
    test = write_examples(test_data / "penguin" / "penguins_processed.csv", root / "test")
    base = write_examples(test_data / "penguin" / "penguins_processed_skewed.csv", root / "base")
    return PenguinPair(test.uri, base.uri, {"test": test.counts, "base": base.counts})
