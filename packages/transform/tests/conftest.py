"""Shared set-up: the installed plugins, Examples and Schema artifacts made from the shared
CSVs, and executor runs shared by the tests of a module (tf.Transform runs take seconds).

The tests never set ``TF_USE_LEGACY_KERAS``: the executor and the runner must do it.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# Fixture modules import by name, as a user's own modules would.
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hrtf_util import (  # noqa: E402
    MODULES,
    PENGUIN,
    TAXI,
    Data,
    Run,
    RunTransform,
    require,
    schema_artifact,
    write_examples,
)

from headrace_core import (  # noqa: E402
    Artifact,
    Examples,
    ExecutorContext,
    TransformCache,
    TransformGraph,
)
from headrace_core.plugins.manager import PluginManager  # noqa: E402
from headrace_core.testing import ignore_warnings  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Noise from the TensorFlow stack's dependencies on import, nothing this package can act on.
    ignore_warnings(
        config,
        "ignore::DeprecationWarning:tensorflow.*",
        "ignore::DeprecationWarning:tensorflow_transform.*",
        "ignore::DeprecationWarning:apache_beam.*",
        "ignore:invalid escape sequence:DeprecationWarning",
        "ignore:invalid escape sequence:SyntaxWarning",
    )


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


def _data(factory: pytest.TempPathFactory, name: str, csv_path: Path) -> Data:
    """``csv_path`` as an Examples artifact and ``fixtures/<name>_schema.pbtxt`` as its Schema."""
    root = factory.mktemp(name)
    schema_file = FIXTURES / f"{name}_schema.pbtxt"
    examples = write_examples(
        require(csv_path), schema_file, root / "examples", fingerprint=f"{name}-1"
    )
    return Data(examples, schema_artifact(schema_file, root / "schema"), schema_file)


@pytest.fixture(scope="session")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> Data:
    return _data(tmp_path_factory, "penguin", PENGUIN)


@pytest.fixture(scope="session")
def taxi(tmp_path_factory: pytest.TempPathFactory) -> Data:
    return _data(tmp_path_factory, "taxi", TAXI)


@pytest.fixture(scope="session")
def run_transform(tmp_path_factory: pytest.TempPathFactory) -> RunTransform:
    """Runs the executor directly, as the launcher would: ``run(data, **exec_properties)``,
    with ``analyzer_cache=`` an earlier run's updated cache and ``spans=`` several Examples
    artifacts instead of ``data.examples``."""
    counter = iter(range(10_000))

    def run(
        data: Data,
        analyzer_cache: Artifact | None = None,
        spans: list[Examples] | None = None,
        **properties: Any,
    ) -> Run:
        from headrace_transform.executor import Executor

        root = tmp_path_factory.mktemp(f"run{next(counter)}")
        outputs: dict[str, list[Artifact]] = {
            "transform_graph": [TransformGraph(str(root / "transform_graph"))],
            "transformed_examples": [Examples(str(root / "transformed_examples"))],
            "updated_analyzer_cache": [TransformCache(str(root / "updated_analyzer_cache"))],
        }
        for artifacts in outputs.values():
            os.makedirs(artifacts[0].uri)
        inputs: dict[str, list[Artifact]] = {
            "examples": list(spans or [data.examples]),
            "schema": [data.schema],
        }
        if analyzer_cache is not None:
            inputs["analyzer_cache"] = [analyzer_cache]
        properties.setdefault("module_file", str(MODULES / "penguin_preprocessing.py"))
        properties.setdefault("materialize", True)
        properties.setdefault("disable_analyzer_cache", False)
        executor = Executor(ExecutorContext(tmp_dir=str(root / "tmp")))
        executor.Do(inputs, outputs, properties)
        return Run(
            outputs["transform_graph"][0],  # type: ignore[arg-type]
            outputs["transformed_examples"][0],  # type: ignore[arg-type]
            outputs["updated_analyzer_cache"][0],  # type: ignore[arg-type]
            executor.last_stats,
        )

    return run


@pytest.fixture(scope="session")
def penguin_run(run_transform: RunTransform, penguin: Data) -> Run:
    """The penguin preprocessing, analyzer cache on: shared by the executor and cache tests."""
    return run_transform(penguin)


@pytest.fixture(scope="session")
def tft() -> Any:
    # The executor first: importing tf.Transform touches tf.keras, which must happen after
    # the executor has chosen Keras 2 (as it does when a runner imports it).
    importlib.import_module("headrace_transform.executor")
    return importlib.import_module("tensorflow_transform")
