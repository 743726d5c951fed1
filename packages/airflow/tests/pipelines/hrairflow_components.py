"""Function components of the test pipelines (imported by name from their source file)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from headrace_core import Examples, InputArtifact, Integer, OutputArtifact, Parameter, component


@component
def Produce(examples: OutputArtifact[Examples], rows: Parameter[int] = 3) -> None:
    with open(os.path.join(examples.uri, "rows.txt"), "w") as f:
        f.write("\n".join(str(i) for i in range(rows)))


@component
def WaitThenProduce(examples: OutputArtifact[Examples], signal_dir: Parameter[str]) -> None:
    """Announces itself (``started-<pid>``, and a grandchild's pid in ``child-<pid>``), then
    waits until the test creates ``go``: a node the test can kill mid-run."""
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    with open(os.path.join(signal_dir, f"child-{os.getpid()}"), "w") as f:
        f.write(str(helper.pid))
    with open(os.path.join(signal_dir, f"started-{os.getpid()}"), "w") as f:
        f.write(str(os.getpid()))
    try:
        while not os.path.exists(os.path.join(signal_dir, "go")):
            time.sleep(0.05)
    finally:
        helper.kill()
        helper.wait()
    with open(os.path.join(examples.uri, "rows.txt"), "w") as f:
        f.write(f"made by {os.getpid()}")


@component
def Count(examples: InputArtifact[Examples]) -> int:
    with open(os.path.join(examples.uri, "rows.txt")) as f:
        return len(f.read().splitlines())


@component
def Fail(examples: InputArtifact[Examples], result: OutputArtifact[Integer]) -> None:
    raise ValueError("airflow test: this node fails on purpose")
