"""Shared set-up: the installed plugins, and the penguin data and a model, made here.

Once per session, from the real data in ``<repo>/../shared/data`` (``HEADRACE_TEST_DATA``
overrides it), :func:`bulkinferrer_testing.make_penguin_data` writes the penguin examples as
ExampleGen leaves them and exports a fixed linear model as the Trainer exports one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headrace_core.testing import apply_executor_env, ignore_warnings, importable

TESTS = Path(__file__).parent
importable(TESTS / "support")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bulkinferrer_testing import PenguinData, make_penguin_data  # noqa: E402

from headrace_bulkinferrer import BulkInferrer  # noqa: E402
from headrace_core.plugins.manager import PluginManager  # noqa: E402

# These tests import TensorFlow themselves, for the fixtures, before any executor runs.
apply_executor_env(BulkInferrer)


def pytest_configure(config: pytest.Config) -> None:
    # Noise from the TensorFlow family's dependencies, nothing this package can act on.
    ignore_warnings(config, "ignore::DeprecationWarning", "ignore::UserWarning:apache_beam.*")


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> PenguinData:
    return make_penguin_data(tmp_path_factory.mktemp("penguin"))
