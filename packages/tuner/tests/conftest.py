"""Shared set-up: the installed plugins, and the penguin data, made once from the real CSV in
``<repo>/../shared/data`` (``HEADRACE_TEST_DATA`` overrides it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headrace_core.testing import apply_executor_env, ignore_warnings, importable

TESTS = Path(__file__).parent
# support/: test helpers; fixtures/: user modules, importable by name for tuner_fn references.
importable(TESTS / "support", TESTS / "fixtures")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tuner_testing import PenguinData, make_penguin_data  # noqa: E402

from headrace_core.plugins.manager import PluginManager  # noqa: E402
from headrace_tuner import Tuner  # noqa: E402

# These tests import TensorFlow themselves, for the fixtures, before any executor runs.
apply_executor_env(Tuner)


def pytest_configure(config: pytest.Config) -> None:
    # Noise from the TensorFlow family's dependencies, nothing this package can act on.
    ignore_warnings(config, "ignore::DeprecationWarning", "ignore::UserWarning:apache_beam.*")


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> PenguinData:
    return make_penguin_data(tmp_path_factory.mktemp("penguin"))
