"""pytest plugin shipped with headrace-core (entry point ``pytest11``): shared fixtures.

Component packages get from here what each used to write again in its conftest: a pipeline
root and its metadata store, the installed plugins loaded afresh, and the real data sets.

``--metadata-backend=mariadb`` (default ``$HEADRACE_TEST_BACKEND``, else ``sqlite``) runs a
suite on MariaDB: each test gets a fresh database on the ``HEADRACE_TEST_MYSQL`` server as
``HEADRACE_METADATA``, which CLI subprocesses inherit. Tests marked ``sqlite_only`` skip there,
and so do tests marked ``own_stores`` (they pick SQLite and MariaDB themselves, in every pass).
Without a server the MariaDB tests skip, saying why; in CI (``CI`` or
``HEADRACE_REQUIRE_MYSQL`` set) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headrace_core.metadata import ENV_METADATA
from headrace_core.plugins.manager import (
    ENV_ALLOW,
    ENV_DISABLE_AUTOLOAD,
    PluginManager,
    get_plugin_manager,
    reset_plugin_manager,
)
from headrace_core.testing._stores import (
    BACKENDS,
    ENV_TEST_BACKEND,
    mysql_required,
    mysql_unavailable,
    new_mysql_database_url,
    store_url,
)
from headrace_core.testing.helpers import ignore_warnings, test_data_dir

#: Warnings that TensorFlow's and TFDV's dependencies print when imported; nothing a
#: headrace package can act on, and under ``-W error`` they would fail unrelated tests.
DEPENDENCY_NOISE = (
    "ignore::FutureWarning:google.api_core._python_version_support",
    "ignore::DeprecationWarning:httplib2.*",
    "ignore:invalid escape sequence:DeprecationWarning",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("headrace")
    group.addoption(
        "--metadata-backend",
        choices=BACKENDS,
        default=None,
        help=(
            "the ML Metadata store every test runs on: sqlite (in the pipeline root) or "
            "mariadb (a fresh database per test on $HEADRACE_TEST_MYSQL, as $HEADRACE_METADATA); "
            f"default ${ENV_TEST_BACKEND}, else sqlite"
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    ignore_warnings(config, *DEPENDENCY_NOISE)
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): the test looks at the SQLite store itself; skipped under "
        "--metadata-backend=mariadb",
    )
    config.addinivalue_line(
        "markers",
        "own_stores: the test chooses its stores itself (SQLite and MariaDB); it runs in the "
        "default pass only, not again under --metadata-backend=mariadb",
    )
    config.addinivalue_line(
        "markers",
        "metadata_per_module: under --metadata-backend=mariadb the module's tests and its "
        "module-scoped fixtures share one database (its tests read what the fixtures ran)",
    )
    backend = metadata_backend(config)
    if backend not in BACKENDS:
        raise pytest.UsageError(
            f"{ENV_TEST_BACKEND}={backend!r}: expected one of {', '.join(BACKENDS)}"
        )


def metadata_backend(config: pytest.Config) -> str:
    """The store this session's tests run on: ``sqlite`` or ``mariadb``."""
    chosen = config.getoption("metadata_backend", default=None)
    return str(chosen or os.environ.get(ENV_TEST_BACKEND, "").strip().lower() or "sqlite")


def pytest_report_header(config: pytest.Config) -> str | None:
    if metadata_backend(config) == "mariadb":
        return f"headrace metadata backend: mariadb ({mysql_unavailable() or 'server set'})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if metadata_backend(config) != "mariadb":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            why = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            reason = "SQLite only" + (f": {why}" if why else "")
            item.add_marker(pytest.mark.skip(reason=f"{reason} (--metadata-backend=mariadb)"))
        elif item.get_closest_marker("own_stores") is not None:
            item.add_marker(
                pytest.mark.skip(reason="chooses its own stores; runs in the default pass only")
            )


def _mysql_database(label: str) -> str:
    reason = mysql_unavailable()
    if reason is not None:
        if mysql_required():
            pytest.fail(f"MariaDB is required here (CI or HEADRACE_REQUIRE_MYSQL is set): {reason}")
        pytest.skip(reason)
    return new_mysql_database_url(label)


@pytest.fixture
def mysql_url(request: pytest.FixtureRequest) -> str:
    """A fresh database on the test server (``HEADRACE_TEST_MYSQL``), as a metadata URL;
    MLMD creates it on first connect. Skips without a server, or fails in CI."""
    return _mysql_database(request.node.name)


@pytest.fixture(scope="module", autouse=True)
def _headrace_module_metadata(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The store of the module's own fixtures (``scope="module"``), which run before any
    test's: SQLite, or under MariaDB one database for a module marked
    ``metadata_per_module`` (its tests read what its fixtures ran)."""
    with pytest.MonkeyPatch.context() as patch:
        shared = None
        if metadata_backend(request.config) != "mariadb":
            # A developer's own HEADRACE_METADATA must not send test runs to a real store.
            patch.delenv(ENV_METADATA, raising=False)
        elif request.node.get_closest_marker("metadata_per_module") is not None:
            shared = _mysql_database(request.node.name.removesuffix(".py"))
            patch.setenv(ENV_METADATA, shared)
        else:
            # Unmarked, the module's fixtures run on SQLite: the conformance suite's reference
            # runs are on SQLite, and MariaDB must record the same.
            patch.delenv(ENV_METADATA, raising=False)
        yield shared


@pytest.fixture(autouse=True)
def _headrace_metadata_backend(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    _headrace_module_metadata: str | None,
) -> None:
    """Under ``--metadata-backend=mariadb``, ``HEADRACE_METADATA`` is a fresh database for
    each test (the module's, for a module marked ``metadata_per_module``)."""
    if metadata_backend(request.config) == "mariadb":
        url = _headrace_module_metadata or request.getfixturevalue("mysql_url")
        monkeypatch.setenv(ENV_METADATA, url)
    else:
        monkeypatch.delenv(ENV_METADATA, raising=False)


@pytest.fixture
def pipeline_root(tmp_path: Path) -> Path:
    """A fresh, empty pipeline root for one test."""
    root = tmp_path / "pipeline_root"
    root.mkdir()
    return root


@pytest.fixture
def metadata_url(pipeline_root: Path) -> str:
    """The URL of the store a run of ``pipeline_root`` uses in this test: SQLite in the root,
    or under ``--metadata-backend=mariadb`` the test's own database."""
    return store_url(pipeline_root)


@pytest.fixture
def metadata_store(metadata_url: str) -> Any:
    """The ML Metadata store of ``pipeline_root``: where ``headrace run`` puts it (SQLite in
    the root, or the test's MariaDB database)."""
    from headrace_core.metadata import MetadataStore

    return MetadataStore(metadata_url)


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
