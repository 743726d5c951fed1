"""Nodes whose executors run Beam pipelines of their own (StatisticsGen, Transform...) work
when launched from a Beam step, in either isolation, and steps may run in other processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hrbeam_pipelines import nested_beam
from hrbeam_util import COMPLETE, PORTABLE, Events, open_store, states

from headrace_beam import BeamDagRunner


def _sum(root: Path) -> int:
    (total,) = (root / "BeamSum" / "total").iterdir()
    value: int = json.loads((total / "sum.json").read_text())["sum"]
    return value


@pytest.mark.parametrize("isolation", ["subprocess", "in-process"])
@pytest.mark.parametrize(
    "beam_args", [[], PORTABLE], ids=["DirectRunner", "PortableRunner-LOOPBACK"]
)
def test_a_node_running_its_own_beam_pipeline(
    tmp_path: Path, beam_args: list[str], isolation: str
) -> None:
    root = tmp_path / "root"
    result = BeamDagRunner(beam_args, isolation=isolation).run(nested_beam(str(root)))
    assert result.succeeded, {n: r.error for n, r in result.results.items()}
    assert _sum(root) == sum(range(100))
    assert states(open_store(root), "nested", result.run_id) == {
        "Numbers": [COMPLETE],
        "BeamSum": [COMPLETE],
    }


def test_steps_in_worker_processes_still_report_progress(tmp_path: Path, events: Events) -> None:
    """With multi_processing the steps run in Beam's worker processes, not the runner's: their
    reports still arrive (through files under the pipeline root)."""
    root = tmp_path / "root"
    runner = BeamDagRunner(
        ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
        on_event=events,
        isolation="in-process",
    )
    result = runner.run(nested_beam(str(root)))
    assert result.succeeded, {n: r.error for n, r in result.results.items()}
    assert events.of("Numbers") == ["queued", "running", "complete"]
    assert events.of("BeamSum") == ["queued", "running", "complete"]
    assert result.results["BeamSum"].outputs["total"][0].uri.startswith(str(root / "BeamSum"))
    assert _sum(root) == sum(range(100))
