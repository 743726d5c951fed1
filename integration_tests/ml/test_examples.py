"""The ML examples end to end through the CLI, with every component package installed.

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


def test_penguin_through_the_trainer_then_fully_cached_without_tensorflow(tmp_path: Path) -> None:
    env = {"PENGUIN_ROOT": str(tmp_path / "penguin"), "PENGUIN_TRAIN_STEPS": "50"}
    first = _statuses(_headrace("run", "examples/penguin/pipeline.py", "--json", env=env))
    assert set(first.values()) == {"complete"} and len(first) == 6
    # The cached rerun loads no executor: TensorFlow, Beam and TFDV stay out of the process.
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['headrace', 'run', 'examples/penguin/pipeline.py', '--json']\n"
        "from headrace_core.cli import main\n"
        "code = main()\n"
        "heavy = [m for m in ('tensorflow', 'apache_beam', 'tensorflow_data_validation')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    second = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert set(_statuses(second).values()) == {"cached"}
    assert "HEAVY []" in second.stderr
