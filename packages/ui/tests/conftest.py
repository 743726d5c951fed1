"""A store with real runs of a small pipeline (three runs, one failed), built once per test
session, and a client for the interface over it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

from ui_runs import run_pipeline  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Starlette 1.x's TestClient would rather have httpx2; httpx is what the stack pins.
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture(scope="session")
def history_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run 1 executes everything; run 2 changes Train's seed (Train and Slow re-run); run 3
    fails in Train."""
    root = tmp_path_factory.mktemp("uihistory")
    runs = [
        run_pipeline(root),
        run_pipeline(root, HRUI_SEED="1"),
        run_pipeline(root, HRUI_SEED="2", HRUI_FAIL="1"),
    ]
    assert runs == [True, True, False]
    return root


@pytest.fixture(scope="session")
def history_url(history_root: Path) -> str:
    from headrace_core.metadata import default_metadata_url

    return default_metadata_url(str(history_root))


@pytest.fixture
def client(history_url: str) -> Iterator[Any]:
    from starlette.testclient import TestClient

    from headrace_ui import create_app

    with TestClient(create_app(history_url)) as c:
        yield c


@pytest.fixture(scope="session")
def run_ids(history_url: str) -> list[str]:
    """The three runs' ids, oldest first."""
    from headrace_core import history
    from headrace_core.metadata import MetadataStore

    rows = history.run_list(MetadataStore(history_url, read_only=True), "uitest")
    return [r["run_id"] for r in reversed(rows)]
