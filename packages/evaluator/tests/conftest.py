"""Shared set-up: the installed plugins, and the penguin data and models, made here.

Once per session, from the real data in ``<repo>/../shared/data`` (``HEADRACE_TEST_DATA``
overrides it), :func:`evaluator_testing.make_penguin_data` writes the penguin examples as
ExampleGen leaves them (gzipped tf.Example TFRecords in ``Split-train/`` and ``Split-eval/``),
the curated schema, a trained tf_keras model and an untrained one, both in ``Format-Serving/``
as the Trainer exports them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
# support/: test helpers; fixtures/: function components, importable by name when nodes run.
for _folder in (TESTS / "support", TESTS / "fixtures"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from evaluator_testing import PenguinData, make_penguin_data  # noqa: E402

from headrace_core.plugins.manager import PluginManager  # noqa: E402
from headrace_evaluator import Evaluator  # noqa: E402

# What a runner does before any executor imports TensorFlow (the Evaluator's EXECUTOR_ENV):
# these tests import TensorFlow themselves, for the fixtures, before any executor runs.
for _key, _value in Evaluator.EXECUTOR_ENV.items():
    os.environ.setdefault(_key, _value)


def pytest_configure(config: pytest.Config) -> None:
    # Noise from the TensorFlow family's dependencies, nothing this package can act on.
    for line in (
        "ignore::FutureWarning:google.api_core._python_version_support",
        "ignore::DeprecationWarning",
        "ignore::UserWarning:apache_beam.*",
    ):
        config.addinivalue_line("filterwarnings", line)


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> PenguinData:
    return make_penguin_data(tmp_path_factory.mktemp("penguin"))
