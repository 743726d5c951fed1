"""Random SIGKILLs of whole runs (the process group, isolation in-process and subprocess) at
random moments: after each, the store is consistent; the next full run completes, leaves
nothing RUNNING, no marker and nothing unpublished at a final path; the one after is cached.

On SQLite, and on MariaDB under ``--metadata-backend=mariadb``. The seed is printed so that a
failure can be replayed (``HEADRACE_CHAOS_SEED``)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path

from hrexec_util import (
    HELLO,
    as_json,
    assert_consistent,
    cli_args,
    cli_env,
    headrace,
    open_store,
)

from headrace_core.testing import store_problems

KILLS = 30
# Kills land anywhere from start-up to the end of a first run of hello (about 1 s here).
LATEST_KILL_S = 1.5


def _killed_run(root: Path, rng: random.Random, count: int) -> None:
    isolation = rng.choice(["in-process", "subprocess"])
    proc = subprocess.Popen(
        cli_args("run", str(HELLO), "--pipeline-root", str(root), "--isolation", isolation),
        env=cli_env(HELLO_COUNT=str(count)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes node processes too
    )
    delay = rng.uniform(0.0, LATEST_KILL_S)
    print(f"kill after {delay:.2f} s ({isolation}, count {count})")
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):  # it may have finished first
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    # Node processes of the group may outlive the runner by a moment; reap is the kernel's.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)


def _check_settled(root: Path) -> None:
    """After a run that completed: nothing RUNNING, no marker, nothing unpublished."""
    store = open_store(root)
    assert_consistent(store)
    problems = store_problems(store, root, settled=True)
    assert problems == [], "after a full run:\n" + "\n".join(problems)


def test_random_kills_never_corrupt_the_store(tmp_path: Path) -> None:
    seed = int(os.environ.get("HEADRACE_CHAOS_SEED") or random.SystemRandom().randrange(10**6))
    print(f"chaos seed {seed} (HEADRACE_CHAOS_SEED={seed} replays it)")
    rng = random.Random(seed)
    root = tmp_path / "root"
    for i in range(KILLS):
        # A few counts, so that kills land in nodes doing real work, not only in cache hits.
        count = rng.choice([20, 40, 60, 80])
        _killed_run(root, rng, count)
        if (root / "metadata.sqlite").exists() or os.environ.get("HEADRACE_METADATA"):
            try:
                store = open_store(root)
            except AssertionError:
                continue  # killed before the store was made
            assert_consistent(store)
        if i % 10 == 9:
            args = ("run", str(HELLO), "--pipeline-root", str(root), "--json")
            first = as_json(headrace(*args, HELLO_COUNT=str(count)))
            assert first["succeeded"], first
            _check_settled(root)
            again = as_json(headrace(*args, HELLO_COUNT=str(count)))
            assert {n["status"] for n in again["nodes"].values()} == {"cached"}, again
