"""``headrace run``'s console: headrace's lines and the user's own warnings and errors; what
nodes print (C++ logging on file descriptor 2, library warnings, prints) in per-node logs
that ``headrace runs logs`` shows and ``-v`` streams; progress lines for long nodes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hrexec_util import FIXTURES, headrace, ok

NOISY = str(FIXTURES / "pipe_noisy.py")
NOISE = "noise from C++"
LIBRARY_WARNING = "a library's deprecation"
PRINTED = "hello from the node's print"
USER_WARNING = "the user's own warning"


def _run_id(stdout: str) -> str:
    match = re.search(r"^run (\S+):", stdout, re.M)
    assert match, stdout
    return match.group(1)


@pytest.mark.parametrize("isolation", ["in-process", "subprocess"])
def test_node_output_goes_to_its_log_not_the_console(tmp_path: Path, isolation: str) -> None:
    root = tmp_path / "root"
    proc = ok(headrace("run", NOISY, "--pipeline-root", str(root), "--isolation", isolation))
    console = proc.stdout + proc.stderr
    for noise in (NOISE, LIBRARY_WARNING, PRINTED):
        assert noise not in console
    if isolation == "in-process":
        # A warning raised by the user's own code is theirs to see (in a node process it
        # reaches the log only, like everything else that process prints).
        assert USER_WARNING in console
    run_id = _run_id(proc.stdout)
    logs = ok(headrace("runs", "logs", run_id, "Noisy", "--pipeline-root", str(root))).stdout
    for text in (NOISE, LIBRARY_WARNING, PRINTED, USER_WARNING):
        assert text in logs
    slow = ok(headrace("runs", "logs", run_id, "Slow", "--pipeline-root", str(root))).stdout
    assert "epoch 2/2" in slow and PRINTED not in slow
    everything = ok(headrace("runs", "logs", run_id, "--pipeline-root", str(root))).stdout
    assert "==> Noisy" in everything and "==> Slow" in everything


def test_verbose_streams_node_output(tmp_path: Path) -> None:
    root = tmp_path / "root"
    proc = ok(headrace("run", NOISY, "--pipeline-root", str(root), "-v"))
    console = proc.stdout + proc.stderr
    for text in (NOISE, LIBRARY_WARNING, PRINTED, "epoch 2/2"):
        assert text in console
    assert console.count(PRINTED) == 1


def test_a_failure_in_user_code_names_the_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "root"
    proc = headrace("run", NOISY, "--pipeline-root", str(root), HRNOISY_FAIL="1")
    assert proc.returncode == 1
    line = next(
        n for n, text in enumerate(Path(NOISY).read_text().splitlines(), 1) if "raise" in text
    )
    assert f"ValueError: the user's bug (at {NOISY}:{line}, in Failing)" in proc.stdout
    assert f"(at {NOISY}:{line}, in Failing)" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_long_node_shows_progress(tmp_path: Path) -> None:
    root = tmp_path / "root"
    proc = ok(
        headrace(
            "run",
            NOISY,
            "--pipeline-root",
            str(root),
            "--max-parallel",
            "1",
            HRNOISY_SLEEP="2.5",
            HEADRACE_PROGRESS_SECONDS="1",
        )
    )
    progress = [x for x in proc.stdout.splitlines() if "Slow" in x and "running" in x]
    # The start, then at least one line with the elapsed time and the node's last output.
    assert len(progress) >= 2, proc.stdout
    assert re.search(r"running\s+\d+s\s+epoch 1/2", progress[-1]), progress


def test_json_keeps_standard_output_for_the_json(tmp_path: Path) -> None:
    import json

    root = tmp_path / "root"
    proc = ok(headrace("run", NOISY, "--pipeline-root", str(root), "--json"))
    assert json.loads(proc.stdout)["succeeded"]
    assert NOISE not in proc.stderr


def test_logs_of_an_unknown_node_or_an_uncaptured_run(tmp_path: Path) -> None:
    root = tmp_path / "root"
    run_id = _run_id(ok(headrace("run", NOISY, "--pipeline-root", str(root))).stdout)
    proc = headrace("runs", "logs", run_id, "Nope", "--pipeline-root", str(root))
    assert proc.returncode == 1 and "has no node 'Nope'" in proc.stderr
    cached = _run_id(ok(headrace("run", NOISY, "--pipeline-root", str(root))).stdout)
    proc = headrace("runs", "logs", cached, "--pipeline-root", str(root))
    assert proc.returncode == 1 and "no node output captured" in proc.stderr


def test_logs_of_a_partial_run_are_under_its_run_id(tmp_path: Path) -> None:
    root = tmp_path / "root"
    proc = ok(headrace("run", NOISY, "--pipeline-root", str(root), "--to-nodes", "Noisy"))
    run_id = _run_id(proc.stdout)
    logs = ok(headrace("runs", "logs", run_id, "Noisy", "--pipeline-root", str(root))).stdout
    assert PRINTED in logs


def test_a_log_that_cannot_be_written_loses_its_output_not_the_run(tmp_path: Path) -> None:
    import os
    import shutil
    import threading

    from headrace_core.runtime import NodeOutput, PipelineLayout
    from headrace_core.runtime._logs import node_scope

    layout = PipelineLayout(str(tmp_path / "root"))
    finished = threading.Event()

    def node() -> None:
        with node_scope("Flood"):
            # Its log folder goes (a full disk, a cleanup): the pump must go on reading, or
            # every writer of descriptors 1 and 2 blocks once the pipe is full.
            shutil.rmtree(layout.run_dir("r1"))
            Path(layout.run_dir("r1")).write_text("not a folder")
            os.write(2, b"x" * 300_000)
            print("after the flood")
        finished.set()

    with NodeOutput(layout, "r1"):
        worker = threading.Thread(target=node, daemon=True)
        worker.start()
        assert finished.wait(30), "a writer blocked: the pump stopped reading"
        worker.join()
