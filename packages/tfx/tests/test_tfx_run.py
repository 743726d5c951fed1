"""``headrace tfx run``: a pipeline file written for TFX, its imports and absl flags as they
are, runs in a fresh interpreter with ``import tfx`` answered by headrace-tfx; script mode
prints the run and fails the command when a node fails. Function components keep the test to
the core (no TensorFlow)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

HELPER = """
import os
from tfx import v1 as tfx

@tfx.dsl.components.component
def WriteNumber(
    number: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.Schema],
    value: tfx.dsl.components.Parameter[int] = 1,
) -> None:
    if value < 0:
        raise ValueError(f"negative value {value}")
    with open(os.path.join(number.uri, "value.txt"), "w") as f:
        f.write(str(value))
"""

PIPELINE = """
import os
import sys

import absl
from absl import flags
from tfx import v1 as tfx
from tfx.examples.demo import demo_helper
from tfx.orchestration import metadata, pipeline
from tfx.proto import trainer_pb2
from tfx.utils import proto_utils

flags.DEFINE_integer("value", 3, "the number to write")
FLAGS = flags.FLAGS

def main(_):
    root = os.environ["DEMO_ROOT"]
    assert proto_utils.proto_to_json(trainer_pb2.TrainArgs(num_steps=2)) == (
        '{\\n  "num_steps": 2\\n}'
    )
    assert os.environ["TF_USE_LEGACY_KERAS"] == "1"
    write = demo_helper.WriteNumber(value=FLAGS.value)
    p = pipeline.Pipeline(
        pipeline_name="demo",
        pipeline_root=root,
        components=[write],
        enable_cache=True,
        metadata_connection_config=metadata.sqlite_metadata_connection_config(
            os.path.join(root, "metadata.sqlite")
        ),
    )
    if os.environ.get("DEMO_RUNNER") == "beam":
        from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

        BeamDagRunner().run(p)
    else:
        tfx.orchestration.LocalDagRunner().run(p)
    print("after the run")

if __name__ == "__main__":
    absl.app.run(main)
"""


def _run(folder: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DEMO_ROOT=str(folder / "root"), **extra)
    env.pop("TF_USE_LEGACY_KERAS", None)
    return subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", "tfx", "run", "pipeline.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "demo_helper.py").write_text(HELPER)
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    return tmp_path


def test_a_tfx_file_runs_unchanged(folder: Path) -> None:
    proc = _run(folder, "--value=5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running 'demo': 1 nodes on local" in proc.stdout
    assert "summary:" in proc.stdout
    assert proc.stdout.rstrip().endswith("after the run")
    [value] = (folder / "root" / "WriteNumber").glob("number/*/value.txt")
    assert value.read_text() == "5"
    # enable_cache=True: the same run again is cached.
    again = _run(folder, "--value=5")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 cached" in again.stdout


def test_a_failing_node_fails_the_command(folder: Path) -> None:
    proc = _run(folder, "--value=-1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "headrace: error: node 'WriteNumber' failed: ValueError: negative value -1" in (
        proc.stderr
    )
    assert (
        proc.stderr.rstrip()
        .splitlines()[-1]
        .startswith("headrace tfx: error: pipeline 'demo', run ")
    )
    assert "after the run" not in proc.stdout


def test_bad_invocations_are_named(folder: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "headrace_tfx", "run", str(folder / "nope.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert f"{folder / 'nope.py'}: no such file" in proc.stderr
    (folder / "other.py").write_text("from tfx.nonexistent import thing\n")
    proc = subprocess.run(
        [sys.executable, "-m", "headrace_tfx", "run", str(folder / "other.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "No module named 'tfx.nonexistent': headrace-tfx maps tfx.v1" in proc.stderr


def test_tfxs_beam_dag_runner_runs_on_headrace_beam(folder: Path) -> None:
    proc = _run(folder, "--value=4", DEMO_RUNNER="beam")
    if importlib.util.find_spec("headrace_beam") is None:
        assert proc.returncode == 1
        assert "BeamDagRunner runs on headrace-beam, which is not installed: pip install " in (
            proc.stderr
        )
        return
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running 'demo': 1 nodes on BeamDagRunner" in proc.stdout
    [value] = (folder / "root" / "WriteNumber").glob("number/*/value.txt")
    assert value.read_text() == "4"


def test_headrace_run_selects_keras_2_before_a_library_imported_above_headrace_tfx(
    folder: Path,
) -> None:
    # TFX's files import TFMA above `from tfx import v1 as tfx`; TFMA touches tf.keras, which
    # TensorFlow then binds to Keras 3 unless TF_USE_LEGACY_KERAS is set by that time.
    (folder / "keras_probe.py").write_text(
        "import os\nSEEN = os.environ.get('TF_USE_LEGACY_KERAS')\n"
    )
    text = PIPELINE.replace("from tfx import v1 as tfx\n", "from headrace_tfx import v1 as tfx\n")
    text = text.replace("import absl\n", "import keras_probe\nimport absl\n", 1)
    text = text.replace(
        '    assert os.environ["TF_USE_LEGACY_KERAS"] == "1"\n',
        '    assert keras_probe.SEEN == "1", keras_probe.SEEN\n',
    )
    (folder / "pipeline.py").write_text(text)
    env = dict(os.environ, DEMO_ROOT=str(folder / "root"))
    env.pop("TF_USE_LEGACY_KERAS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", "run", "pipeline.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 complete" in proc.stdout
