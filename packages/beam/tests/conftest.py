"""Shared set-up: the installed plugins, and the hello pipeline compiled by the real command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# Fixture modules import by name, as a user's own modules would.
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

from hrbeam_util import HELLO, Events, headrace  # noqa: E402

from headrace_core import ir  # noqa: E402
from headrace_core.plugins.manager import PluginManager  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Noise from Beam's dependencies on import, nothing this package can act on.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:httplib2.*")


@pytest.fixture(autouse=True)
def _plugins(installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""


@pytest.fixture
def hello_ir(tmp_path: Path) -> Callable[[Path], dict[str, Any]]:
    """``compile(root)``: the hello pipeline's IR with its root at ``root``, compiled by the
    real ``headrace compile`` (the pipeline file is not imported into the test process)."""

    def compile_hello(root: Path) -> dict[str, Any]:
        out = root.parent / f"{root.name}.ir.json"
        proc = headrace("compile", str(HELLO), "-o", str(out), HELLO_ROOT=str(root))
        assert proc.returncode == 0, proc.stderr
        return ir.loads(out.read_text())

    return compile_hello


@pytest.fixture
def events() -> Events:
    return Events()
