"""pytest plugin shipped with headrace-core (entry point ``pytest11``): shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headrace_core.plugins.manager import (
    PluginManager,
    get_plugin_manager,
    reset_plugin_manager,
)


@pytest.fixture
def pipeline_root(tmp_path: Path) -> Path:
    """A fresh, empty pipeline root for one test."""
    root = tmp_path / "pipeline_root"
    root.mkdir()
    return root


@pytest.fixture
def plugin_manager() -> Iterator[PluginManager]:
    """The installed plugins, loaded afresh for this test and dropped afterwards."""
    reset_plugin_manager()
    try:
        yield get_plugin_manager()
    finally:
        reset_plugin_manager()
