"""The taxi example end to end through the CLI, with every component package installed (the
penguin pipeline has its own end-to-end test, test_penguin_e2e.py).

Run by the `examples` nox session (the other integration tests need only the core).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("headrace_trainer", reason="needs every component package installed")

REPO = Path(__file__).resolve().parents[2]


def _headrace(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=900,
        check=False,
    )


def _statuses(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert result.returncode == 0, result.stderr[-3000:]
    return {k: v["status"] for k, v in json.loads(result.stdout)["nodes"].items()}


def test_taxi_through_the_trainer(tmp_path: Path) -> None:
    """Vocabularies, bucketized coordinates and z-scores (Transform) feed a Keras model."""
    env = {"TAXI_ROOT": str(tmp_path / "taxi"), "TAXI_TRAIN_STEPS": "50"}
    result = _headrace("run", "examples/taxi/pipeline.py", "--json", env=env)
    assert _statuses(result) == {
        "CsvExampleGen": "complete",
        "StatisticsGen": "complete",
        "SchemaGen": "complete",
        "Transform": "complete",
        "Trainer": "complete",
    }
    models = list((tmp_path / "taxi" / "Trainer" / "model").glob("*/Format-Serving/saved_model.pb"))
    assert len(models) == 1
    vocabularies = list((tmp_path / "taxi" / "Transform").glob("transform_graph/*/transform_fn"))
    assert vocabularies, "Transform wrote no transform graph"
