"""Shared set-up: the installed plugins, the penguin examples and three small models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headrace_core.testing import apply_executor_env, ignore_warnings, importable

TESTS = Path(__file__).parent
importable(TESTS / "support")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from infravalidator_testing import make_examples, make_models  # noqa: E402

from headrace_core.plugins.manager import PluginManager  # noqa: E402
from headrace_infravalidator import InfraValidator  # noqa: E402

apply_executor_env(InfraValidator)


def pytest_configure(config: pytest.Config) -> None:
    ignore_warnings(config, "ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_examples(tmp_path_factory.mktemp("penguin") / "examples")


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_models(tmp_path_factory.mktemp("models"))
