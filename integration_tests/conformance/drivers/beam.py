"""Beam: ``headrace run --orchestrator beam``, the whole pipeline as one Beam pipeline on the
DirectRunner, each node through ``python -m headrace_core.launch`` (the default isolation).

``HEADRACE_CONFORMANCE_BEAM_ARGS`` adds Beam arguments, space-separated, e.g.
``--runner=PortableRunner --job_endpoint=embed --environment_type=LOOPBACK`` or
``--headrace_isolation=in-process``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from conformance.drivers._cli import headrace_run
from conformance.outcome import Outcome


def run_pipeline(pipeline_file: Path, root: Path, workdir: Path) -> Outcome:
    if importlib.util.find_spec("headrace_beam") is None:
        pytest.skip("beam: headrace-beam is not installed (uv pip install -e packages/beam)")
    extra = os.environ.get("HEADRACE_CONFORMANCE_BEAM_ARGS", "").split()
    args = [f"--beam-arg={arg}" for arg in extra]
    return headrace_run(pipeline_file, root, workdir, "--orchestrator", "beam", *args)
