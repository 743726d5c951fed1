"""pytest plugin shipped with headrace-core (entry point ``pytest11``): shared fixtures.

Component packages get from here what each used to write again in its conftest: a pipeline
root and its metadata store, the installed plugins loaded afresh, and the real data sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headrace_core.plugins.manager import (
    ENV_ALLOW,
    ENV_DISABLE_AUTOLOAD,
    PluginManager,
    get_plugin_manager,
    reset_plugin_manager,
)
from headrace_core.testing.helpers import ignore_warnings, test_data_dir

#: Warnings that TensorFlow's and TFDV's dependencies print when imported; nothing a
#: headrace package can act on, and under ``-W error`` they would fail unrelated tests.
DEPENDENCY_NOISE = (
    "ignore::FutureWarning:google.api_core._python_version_support",
    "ignore::DeprecationWarning:httplib2.*",
    "ignore:invalid escape sequence:DeprecationWarning",
)


def pytest_configure(config: pytest.Config) -> None:
    ignore_warnings(config, *DEPENDENCY_NOISE)


@pytest.fixture
def pipeline_root(tmp_path: Path) -> Path:
    """A fresh, empty pipeline root for one test."""
    root = tmp_path / "pipeline_root"
    root.mkdir()
    return root


@pytest.fixture
def metadata_store(pipeline_root: Path) -> Any:
    """The ML Metadata store of ``pipeline_root`` (SQLite, where ``headrace run`` puts it)."""
    from headrace_core.metadata import MetadataStore, default_metadata_url

    return MetadataStore(default_metadata_url(str(pipeline_root)))


@pytest.fixture
def plugin_manager() -> Iterator[PluginManager]:
    """The installed plugins, loaded afresh for this test and dropped afterwards."""
    reset_plugin_manager()
    try:
        yield get_plugin_manager()
    finally:
        reset_plugin_manager()


@pytest.fixture
def installed_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginManager]:
    """Every installed plugin, the tested package's among them, loaded afresh whatever the
    environment says (``HEADRACE_DISABLE_PLUGIN_AUTOLOAD``, ``HEADRACE_PLUGINS``).

    A package's conftest makes it apply to every test::

        @pytest.fixture(autouse=True)
        def _plugins(installed_plugins): ...
    """
    monkeypatch.delenv(ENV_DISABLE_AUTOLOAD, raising=False)
    monkeypatch.delenv(ENV_ALLOW, raising=False)
    reset_plugin_manager()
    try:
        yield get_plugin_manager()
    finally:
        reset_plugin_manager()


@pytest.fixture(scope="session")
def test_data(request: pytest.FixtureRequest) -> Path:
    """The real data sets (``penguin/``, ``chicago_taxi/``): ``$HEADRACE_TEST_DATA``, else
    ``shared/data`` beside the repository."""
    return test_data_dir(request.config.rootpath)
