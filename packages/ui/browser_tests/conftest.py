"""The browser tests: a real headless Chromium (Debian's, ``HEADRACE_UI_CHROMIUM`` or
/usr/bin/chromium) driven by Playwright against ``headrace ui`` served by uvicorn on
127.0.0.1. One browser, one penguin store (two real runs of examples/penguin/pipeline.py) and
one server for the whole session; screenshots of every page go to build/ui-screenshots/.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The tests import their helpers by name (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))

from browser_support import CHROMIUM, PENGUIN, Server, headrace


@pytest.fixture(scope="session")
def penguin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs of the penguin example: everything executes, then everything up to the
    Trainer is cached and the Evaluator re-runs against its new baseline."""
    pytest.importorskip("headrace_evaluator", reason="needs every component package")
    kept = os.environ.get("HEADRACE_UI_PENGUIN_ROOT")  # a store kept between local runs
    if kept and os.path.exists(os.path.join(kept, "metadata.sqlite")):
        return Path(kept)
    root = Path(kept) if kept else tmp_path_factory.mktemp("penguin")
    env = {"PENGUIN_ROOT": str(root), "PENGUIN_TRAIN_STEPS": "100"}
    for _ in range(2):
        headrace("run", str(PENGUIN), env=env)
    return root


@pytest.fixture(scope="session")
def penguin_server(penguin_root: Path) -> Iterator[Server]:
    server = Server("--pipeline-root", str(penguin_root))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: apt-get install chromium (or HEADRACE_UI_CHROMIUM)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in m.text else None,
    )
    yield page
    context.close()
    assert not errors, errors
