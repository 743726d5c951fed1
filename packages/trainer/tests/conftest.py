"""Shared set-up: the installed plugins, and the penguin data in TFX's layouts, made here.

Once per session, from the real data in ``<repo>/../shared/data`` (``HEADRACE_TEST_DATA``
overrides it), :func:`trainer_testing.make_penguin_data` writes:

* raw examples: gzipped tf.Example TFRecords in ``Split-train/`` and ``Split-eval/``
  (every third row is eval, as ExampleGen's 2:1 split would make them, but deterministic);
* the raw schema (``schema.pbtxt``, the curated penguin schema);
* a transform graph made with ``tensorflow_transform.beam`` from the penguin module's
  ``preprocessing_fn`` (z-scores of the four measurements), and the transformed examples.

The tests do not import headrace-transform: this is what its output looks like on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headrace_core.testing import apply_executor_env, ignore_warnings, importable

TESTS = Path(__file__).parent
# support/: test helpers; fixtures/: user module files, importable by name as the Trainer
# makes them for run_fn references.
importable(TESTS / "support", TESTS / "fixtures")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from trainer_testing import PenguinData, make_penguin_data  # noqa: E402

from headrace_core.plugins.manager import PluginManager  # noqa: E402
from headrace_trainer import Trainer  # noqa: E402

# These tests import TensorFlow themselves, for the fixtures, before any executor runs.
apply_executor_env(Trainer)


def pytest_configure(config: pytest.Config) -> None:
    # Noise from the TensorFlow family's dependencies, nothing this package can act on.
    ignore_warnings(config, "ignore::DeprecationWarning", "ignore::UserWarning:apache_beam.*")


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> PenguinData:
    return make_penguin_data(tmp_path_factory.mktemp("penguin"))
