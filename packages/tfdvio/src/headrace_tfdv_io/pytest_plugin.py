"""pytest plugin of headrace-tfdv-io (entry point ``pytest11``): the real data sets as
CsvExampleGen's Examples, made once per session, for the tests of any TFDV-based component.

Builds on headrace-core's plugin (its ``test_data`` fixture: ``HEADRACE_TEST_DATA``, else
``shared/data`` beside the repository).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from headrace_tfdv_io.testing import ExamplesFixture, write_examples

__all__ = ["penguin_examples", "taxi_examples"]


@pytest.fixture(scope="session")
def taxi_examples(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> ExamplesFixture:
    """The Chicago taxi CSV as CsvExampleGen's Examples (train and eval, 2:1)."""
    out = tmp_path_factory.mktemp("taxi") / "examples"
    return write_examples(test_data / "chicago_taxi" / "data.csv", out)


@pytest.fixture(scope="session")
def penguin_examples(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> ExamplesFixture:
    """The processed penguin CSV as CsvExampleGen's Examples (train and eval, 2:1)."""
    out = tmp_path_factory.mktemp("penguin") / "examples"
    return write_examples(test_data / "penguin" / "penguins_processed.csv", out)
