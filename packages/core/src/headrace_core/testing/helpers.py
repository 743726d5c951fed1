"""Helpers for component packages' tests: the shared test data, ``headrace show`` as JSON.

Plain functions, for helper modules that compute paths at import time; the pytest plugin
(:mod:`headrace_core.testing.plugin`) offers the same as fixtures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "TEST_DATA_ENV",
    "apply_executor_env",
    "ignore_warnings",
    "importable",
    "require_test_data",
    "show_artifact",
    "test_data_dir",
    "tfx_message_class",
]

#: Overrides where the real data sets (penguin, chicago_taxi) are.
TEST_DATA_ENV = "HEADRACE_TEST_DATA"


def test_data_dir(start: str | os.PathLike[str] | None = None) -> Path:
    """The folder of real data sets: ``$HEADRACE_TEST_DATA``, else the first ``shared/data``
    beside an ancestor of ``start`` (default: the working directory), which for a checkout is
    ``<repo>/../shared/data``.

    When none exists, the path where it is looked for first is returned, so that a missing
    file is reported with a path to put it at (:func:`require_test_data`).
    """
    configured = os.environ.get(TEST_DATA_ENV)
    if configured:
        return Path(configured)
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return here.parent / "shared" / "data"


# Not a test, whatever its name says.
test_data_dir.__test__ = False  # type: ignore[attr-defined]


def importable(*folders: str | os.PathLike[str]) -> None:
    """Put ``folders`` first on ``sys.path``: test helper and user modules import by name, as
    a user's own modules would (pytest's ``--import-mode=importlib`` adds no folder)."""
    for folder in reversed(dict.fromkeys(str(f) for f in folders)):
        if folder not in sys.path:
            sys.path.insert(0, folder)


def apply_executor_env(component: Any) -> None:
    """Set what a runner sets before a node of ``component`` runs (its ``EXECUTOR_ENV``,
    variables the user has not set), for tests that import TensorFlow themselves before any
    executor runs: TensorFlow reads some of them once, when first imported."""
    for key, value in getattr(component, "EXECUTOR_ENV", {}).items():
        os.environ.setdefault(key, value)


def ignore_warnings(config: Any, *filters: str) -> None:
    """Add ``filterwarnings`` lines (``"ignore::DeprecationWarning:tensorflow.*"``) from a
    conftest's ``pytest_configure``: noise from dependencies that a package cannot act on."""
    for line in filters:
        config.addinivalue_line("filterwarnings", line)


def require_test_data(path: str | os.PathLike[str], *, skip: bool = False) -> Path:
    """``path``, failing the test (or skipping it: ``skip=True``) when it does not exist."""
    import pytest

    found = Path(path)
    if not found.exists():
        message = f"test data {found} is missing; set {TEST_DATA_ENV} to the data folder"
        if skip:
            pytest.skip(message)
        pytest.fail(message)
    return found


def show_artifact(pipeline_root: str | os.PathLike[str], artifact_id: int | None) -> Any:
    """``headrace show ARTIFACT_ID --json`` on the store of ``pipeline_root``, in a fresh
    interpreter as a user would run it; fails the test when the command fails."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "headrace_core.cli",
            "show",
            str(artifact_id),
            "--pipeline-root",
            str(pipeline_root),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise AssertionError(f"headrace show {artifact_id} failed: {out.stderr}")
    return json.loads(out.stdout)


def tfx_message_class(full_name: str, fields: dict[str, int]) -> Any:
    """A protobuf message class named ``full_name`` (``"tfx.components.trainer.TrainArgs"``)
    with repeated string ``fields`` (name -> field number): the shape of a TFX proto message,
    for testing that a component takes one, without the tfx package. Built in a private pool,
    so it never clashes with a real message of that name."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    package, _, name = full_name.rpartition(".")
    file = descriptor_pb2.FileDescriptorProto(
        name=f"headrace_testing/{full_name}.proto", package=package, syntax="proto3"
    )
    message = file.message_type.add(name=name)
    for field, number in fields.items():
        message.field.add(
            name=field,
            number=number,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
        )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
