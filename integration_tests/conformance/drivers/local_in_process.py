"""The local runner, every node in the runner's own process (the default)."""

from __future__ import annotations

from pathlib import Path

from conformance.drivers._cli import headrace_run
from conformance.outcome import Outcome


def run_pipeline(pipeline_file: Path, root: Path, workdir: Path) -> Outcome:
    return headrace_run(pipeline_file, root, workdir, "--isolation", "in-process")
