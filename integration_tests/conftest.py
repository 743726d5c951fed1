"""Shared helpers for the integration tests: the ``headrace`` command, the fixture plugins'
presence, the example pipeline, and a summary of what the tests measured.

These tests exercise headrace the way a user does: the fixture plugins under ``plugins/`` are
installed as ordinary (non-editable) distributions, and the CLI runs as a subprocess.
``nox -s integration`` installs them; elsewhere::

    uv pip install integration_tests/plugins/headrace-example-plugin \\
        integration_tests/plugins/headrace-broken-plugin
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
# Test modules import the helpers beside this file (conformance, penguin_example) by name;
# under --import-mode=importlib pytest puts no test folder on sys.path itself.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
PIPELINE_FILE = HERE / "pipelines" / "embedding_pipeline.py"

EXAMPLE_DIST = "headrace-example-plugin"
BROKEN_DIST = "headrace-broken-plugin"

_MEASUREMENTS = pytest.StashKey[list[str]]()


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


_INSTALL_HINT = (
    "install the fixture plugins (nox -s integration does): uv pip install "
    "integration_tests/plugins/headrace-example-plugin "
    "integration_tests/plugins/headrace-broken-plugin"
)

#: Marker name -> the fixture distribution a test so marked needs installed.
_NEEDS = {"needs_example_plugin": EXAMPLE_DIST, "needs_broken_plugin": BROKEN_DIST}


def pytest_configure(config: pytest.Config) -> None:
    for marker, distribution in _NEEDS.items():
        config.addinivalue_line(
            "markers", f"{marker}: skip unless the fixture plugin {distribution} is installed"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for marker, distribution in _NEEDS.items():
        if installed_version(distribution) is not None:
            continue
        skip = pytest.mark.skip(reason=f"{distribution} is not installed; {_INSTALL_HINT}")
        for item in items:
            if item.get_closest_marker(marker) is not None:
                item.add_marker(skip)


def headrace_command() -> list[str]:
    """The ``headrace`` console script of this interpreter's environment, or ``python -m``."""
    script = Path(sys.executable).with_name("headrace")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "headrace_core.cli"]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any HEADRACE_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    env.update(extra or {})
    return env


RunHeadrace = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_headrace() -> RunHeadrace:
    """Run ``headrace ARGS...`` in a subprocess with a clean environment (plus ``env``)."""

    def run(
        *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*headrace_command(), *args],
            capture_output=True,
            text=True,
            check=False,
            env=clean_env(env),
            cwd=cwd,
            timeout=120,
        )

    return run


@pytest.fixture
def plugins_json(run_headrace: RunHeadrace) -> Callable[..., dict[str, Any]]:
    """``headrace plugins --json`` (with ``env``), checked to exit 0, parsed."""

    def load(env: Mapping[str, str] | None = None) -> dict[str, Any]:
        result = run_headrace("plugins", "--json", env=env)
        assert result.returncode == 0, result.stderr
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    return load


@pytest.fixture
def pipeline_file() -> Path:
    return PIPELINE_FILE


@pytest.fixture
def measurement(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a line now and again in the terminal summary (figures are reported, not asserted)."""

    def record(line: str) -> None:
        print(line)
        request.config.stash.setdefault(_MEASUREMENTS, []).append(line)

    return record


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_MEASUREMENTS, [])
    if lines:
        terminalreporter.section("headrace integration measurements")
        for line in lines:
            terminalreporter.write_line(line)
