"""Helpers of the browser tests (see conftest.py): a real headless Chromium (Debian's,
``HEADRACE_UI_CHROMIUM`` or
/usr/bin/chromium) driven by Playwright against ``headrace ui`` served by uvicorn on
127.0.0.1. One browser, one penguin store (two real runs of examples/penguin/pipeline.py) and
one server for the whole session; screenshots of every page go to build/ui-screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(os.environ.get("HEADRACE_UI_SCREENSHOTS") or REPO / "build" / "ui-screenshots")
PENGUIN = REPO / "examples" / "penguin" / "pipeline.py"
FIXTURE_PIPELINE = REPO / "packages" / "ui" / "tests" / "fixtures" / "ui_pipeline.py"
CHROMIUM = os.environ.get("HEADRACE_UI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def headrace(*args: str, env: dict[str, str] | None = None, timeout: float = 1200) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``headrace ui`` in a subprocess, as a user starts it."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "headrace_core.cli", "ui", *args, "--port", str(self.port)],
            cwd=REPO,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return
            except OSError as e:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"headrace ui did not start ({self.proc.returncode})") from e
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
