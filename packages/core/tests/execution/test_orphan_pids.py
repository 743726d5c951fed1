"""Which processes count as gone when a RUNNING execution's marker is checked."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from headrace_core.runtime._claims import pid_alive as _pid_alive


def test_a_running_process_is_alive() -> None:
    assert _pid_alive(os.getpid())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_zombie_is_gone() -> None:
    # A node whose parent was SIGKILLed is a zombie until something reaps it; its execution
    # must be reaped as abandoned all the same.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while _pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _pid_alive(child.pid)
    finally:
        child.wait()
    assert not _pid_alive(child.pid)
