"""Shared set-up: the installed plugins, a local Airflow, and ML Metadata queries.

Tests that run Airflow need an Airflow environment apart from this one (Airflow 3's task SDK
and ml-metadata 1.16 cannot share one): ``HEADRACE_AIRFLOW_PYTHON`` names its interpreter
(``packages/airflow/tests/airflow2-requirements.txt`` recreates it). Without it they skip.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SUPPORT = Path(__file__).parent / "support"
# support/: test helpers, importable by name.
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

from headrace_airflow.local import (  # noqa: E402
    AIRFLOW_PYTHON_ENV,
    LocalAirflow,
    airflow_python_from_env,
)
from headrace_core.plugins.manager import PluginManager  # noqa: E402


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture(scope="session")
def airflow_python() -> str:
    python = airflow_python_from_env()
    if python is None:
        pytest.skip(
            f"{AIRFLOW_PYTHON_ENV} is not set: these tests need the python of an Airflow "
            "environment (e.g. uv pip install -r packages/airflow/tests/airflow2-requirements.txt)"
        )
    if not os.path.isfile(python):
        pytest.fail(f"{AIRFLOW_PYTHON_ENV}={python!r} does not exist")
    return python


@pytest.fixture(scope="session")
def airflow_home(airflow_python: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated Airflow home (SQLite) for the session: ``db migrate`` takes 15-20 s."""
    home = tmp_path_factory.mktemp("airflow_home")
    LocalAirflow(airflow_python, home).ensure_database()
    return home


@pytest.fixture
def airflow(airflow_python: str, airflow_home: Path, tmp_path: Path) -> LocalAirflow:
    """The session's Airflow, with a DAG folder and a TMPDIR of this test's own (a task killed
    outright leaves its scratch folder there)."""
    dags = tmp_path / "dags"
    dags.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return LocalAirflow(airflow_python, airflow_home, dags, extra_env={"TMPDIR": str(scratch)})
