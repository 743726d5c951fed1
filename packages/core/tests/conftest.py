"""Shared set-up for headrace-core's unit tests.

Every test sees only the core's own plugin: installed third-party plugins (the workspace's
integration fixtures, for one) must not change what these tests observe. Tests of plugin
loading bring their own plugins or fake entry points.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from headrace_core.plugins import ENV_ALLOW, ENV_DISABLE_AUTOLOAD, ENV_TRACE, reset_plugin_manager

FIXTURES = Path(__file__).parent / "fixtures"

# Fixture modules (hrcore_components, ...) import by name, as a user's own modules would.
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))


@pytest.fixture(autouse=True)
def _core_plugins_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, "1")
    monkeypatch.delenv(ENV_ALLOW, raising=False)
    monkeypatch.delenv(ENV_TRACE, raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def forget_new_modules() -> Iterator[None]:
    """Drop modules (pipeline files) imported during the test, and restore sys.path."""
    before = set(sys.modules)
    path = list(sys.path)
    yield
    tmp = os.path.realpath(tempfile.gettempdir())
    for name in set(sys.modules) - before:
        source = getattr(sys.modules[name], "__file__", None) or ""
        if name.startswith("_headrace_pipeline") or os.path.realpath(source).startswith(tmp):
            del sys.modules[name]
    sys.path[:] = path


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m headrace_core.cli ARGS`` in a fresh interpreter."""

    def run(*args: str, cwd: Path | None = None, hash_seed: str = "0", **env: str):
        environ = dict(os.environ)
        environ[ENV_DISABLE_AUTOLOAD] = "1"
        environ["PYTHONHASHSEED"] = hash_seed
        environ["PYTHONPATH"] = os.pathsep.join(
            [str(FIXTURES), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        environ.update(env)
        return subprocess.run(
            [sys.executable, "-m", "headrace_core.cli", *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=environ,
            check=False,
            timeout=120,
        )

    return run
