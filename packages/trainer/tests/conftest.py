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
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
# support/: test helpers; fixtures/: user module files, importable by name as the Trainer
# makes them for run_fn references.
for _folder in (TESTS / "support", TESTS / "fixtures"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from trainer_testing import PenguinData, make_penguin_data  # noqa: E402

from headrace_core.plugins import (  # noqa: E402
    ENV_ALLOW,
    ENV_DISABLE_AUTOLOAD,
    reset_plugin_manager,
)
from headrace_trainer import Trainer  # noqa: E402

# What a runner does before any executor imports TensorFlow (the Trainer's EXECUTOR_ENV):
# these tests import TensorFlow themselves, for the fixtures, before any executor runs.
for _key, _value in Trainer.EXECUTOR_ENV.items():
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
def _installed_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""
    monkeypatch.delenv(ENV_DISABLE_AUTOLOAD, raising=False)
    monkeypatch.delenv(ENV_ALLOW, raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture(scope="session")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> PenguinData:
    return make_penguin_data(tmp_path_factory.mktemp("penguin"))
