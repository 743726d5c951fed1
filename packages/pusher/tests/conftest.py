"""Shared set-up: the installed plugins, and real SavedModels exported here with TensorFlow.

The Pusher itself never imports TensorFlow; the tests do, to make models and to load what
was pushed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from headrace_core.testing import ignore_warnings, importable

TESTS = Path(__file__).parent
# support/: helpers; fixtures/: function components, importable by name as a user's would be.
importable(TESTS / "support", TESTS / "fixtures")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pusher_testing import export_scale_model, model_from  # noqa: E402

from headrace_core import Model  # noqa: E402
from headrace_core.plugins.manager import PluginManager  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Noise from TensorFlow's dependencies on import, nothing this package can act on.
    ignore_warnings(config, "ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two different SavedModels: ``a`` computes ``2x``, ``b`` computes ``3x``."""
    root = tmp_path_factory.mktemp("saved_models")
    return {
        "a": export_scale_model(root / "a", 2.0),
        "b": export_scale_model(root / "b", 3.0),
    }


@pytest.fixture
def make_model(tmp_path: Path, saved_models: dict[str, str]) -> Callable[[str], Model]:
    """``make_model("a")``: a new Model artifact (its own directory) holding model ``a``."""
    counter = iter(range(1000))

    def make(name: str) -> Model:
        return model_from(saved_models[name], tmp_path / "models" / f"{name}-{next(counter)}")

    return make


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    """The directory a model server would watch (not created: the Pusher creates it)."""
    return tmp_path / "serving" / "penguin"
