"""New SQLite stores are WAL databases; a runner killed with SIGKILL in the middle of its MLMD
writes leaves a store that opens, passes SQLite's integrity check, and the next run completes
the pipeline correctly."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hrexec_util import (
    COMPLETE,
    as_json,
    assert_consistent,
    cli_args,
    cli_env,
    headrace,
    node_executions,
    open_store,
)

from headrace_core.metadata import ENV_SQLITE_JOURNAL, MetadataStore

pytestmark = pytest.mark.sqlite_only("SQLite's journal modes and integrity check")

NODES = 120


def _journal(path: Path) -> str:
    """The journal mode recorded in a database file's header (bytes 18 and 19: 2 for WAL)."""
    header = path.read_bytes()[:20]
    return {(1, 1): "rollback", (2, 2): "wal"}[(header[18], header[19])]


def _integrity(path: Path) -> str:
    # In a process of its own: this one may hold the store open through MLMD's SQLite.
    code = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "print(db.execute('PRAGMA integrity_check').fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_a_new_store_is_a_wal_database(tmp_path: Path) -> None:
    MetadataStore(f"sqlite:///{tmp_path}/m.sqlite")
    assert _journal(tmp_path / "m.sqlite") == "wal"


def test_the_rollback_journal_on_request_and_existing_stores_left_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_SQLITE_JOURNAL, "delete")
    MetadataStore(f"sqlite:///{tmp_path}/m.sqlite")
    assert _journal(tmp_path / "m.sqlite") == "rollback"
    monkeypatch.delenv(ENV_SQLITE_JOURNAL)
    store = MetadataStore(f"sqlite:///{tmp_path}/m.sqlite")
    store.raw.get_artifacts()
    assert _journal(tmp_path / "m.sqlite") == "rollback"


def _pipeline(directory: Path) -> Path:
    (directory / "wal_components.py").write_text(
        textwrap.dedent(
            """
            from headrace_core import component

            @component
            def Start() -> int:
                return 0

            @component
            def Step(x: int) -> int:
                return x + 1
            """
        )
    )
    path = directory / "wal_pipeline.py"
    path.write_text(
        textwrap.dedent(
            f"""
            import os
            from headrace_core import Pipeline
            from wal_components import Start, Step

            def create_pipeline():
                nodes = [Start()]
                for i in range({NODES} - 1):
                    nodes.append(Step(x=nodes[-1].outputs["output"]).with_id(f"step_{{i:03d}}"))
                return Pipeline("wal", os.environ["WAL_ROOT"], nodes)
            """
        )
    )
    return path


def test_sigkill_mid_writes_leaves_a_store_that_opens_and_the_next_run_is_right(
    tmp_path: Path,
) -> None:
    pipeline = _pipeline(tmp_path)
    root = tmp_path / "root"
    store_file = root / "metadata.sqlite"
    wal = root / "metadata.sqlite-wal"
    rng = random.Random(11)
    kills = 0
    for _ in range(4):
        proc = subprocess.Popen(
            cli_args("run", str(pipeline)),
            env=cli_env(WAL_ROOT=str(root)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            start = wal.stat().st_size if wal.exists() else 0
            deadline = time.monotonic() + 60
            # Writes are under way once the WAL grows; then kill at a random moment.
            while not (wal.exists() and wal.stat().st_size > start) and proc.poll() is None:
                assert time.monotonic() < deadline, "the run never wrote to its store"
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.25))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        assert _journal(store_file) == "wal"
        assert _integrity(store_file) == "ok"
        assert_consistent(open_store(root))
    assert kills >= 3, "the runs ended before they could be killed: make the pipeline longer"

    env = {"WAL_ROOT": str(root)}
    first = as_json(headrace("run", str(pipeline), "--json", **env))
    assert {n["status"] for n in first["nodes"].values()} <= {"complete", "cached"}
    assert len(first["nodes"]) == NODES
    again = as_json(headrace("run", str(pipeline), "--json", **env))
    assert {n["status"] for n in again["nodes"].values()} == {"cached"}
    store = open_store(root)
    assert_consistent(store)
    assert _integrity(store_file) == "ok"
    # Each node produced its output once, however many runs were killed on the way.
    for node_id in ["Start", *(f"step_{i:03d}" for i in range(NODES - 1))]:
        done = [e for e in node_executions(store, "wal", node_id) if e.last_known_state == COMPLETE]
        assert len(done) == 1, (node_id, [e.last_known_state for e in done])
    # And the chain computed what it should: the last step's value is NODES - 1.
    [artifact_id] = again["nodes"][f"step_{NODES - 2:03d}"]["outputs"]["output"]
    [artifact] = store.artifacts([artifact_id])
    assert (Path(artifact.uri) / "value").read_text().strip() == str(NODES - 1)


def test_only_the_store_maker_uses_pythons_sqlite3() -> None:
    """Python's sqlite3 on a store that MLMD holds open in the same process loses data under
    WAL: closing it checkpoints and deletes the -wal file beneath MLMD's connection, whose later
    commits go to the deleted file. Only the URL module may use it, on a file not yet created."""
    src = Path(__file__).resolve().parents[2] / "src"
    users = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if re.search(r"^\s*(import|from) sqlite3\b", p.read_text(encoding="utf-8"), re.M)
    )
    assert users == ["headrace_core/metadata/_urls.py"]
