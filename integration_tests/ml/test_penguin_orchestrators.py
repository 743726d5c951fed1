"""The penguin pipeline on the Beam runner against the local runner: the same executions,
artifacts and lineage in ML Metadata, with the conformance suite's snapshot. (Penguin through
Airflow is compared the same way in ``distributed/test_celery.py``, on Celery workers.)

Content that differs between any two runs is compared by type, state and properties only: the
transformed examples (Beam's shuffling), the model's weights, the metrics it gets, the pushed
copy with its time-based version, and the transform graph (a SavedModel names its functions
with process-wide counters, so its bytes depend on what else the process traced first).
Everything before Transform must match byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("headrace_evaluator", reason="needs every component package installed")

INTEGRATION = Path(__file__).resolve().parents[1]
if str(INTEGRATION) not in sys.path:
    sys.path.insert(0, str(INTEGRATION))

from conformance.drivers import beam, local_in_process  # noqa: E402
from conformance.snapshot import run_snapshot, without  # noqa: E402
from penguin_example import NODES  # noqa: E402

REPO = INTEGRATION.parent
PIPELINE = REPO / "examples" / "penguin" / "pipeline.py"
# Outputs whose bytes differ between any two runs, local ones included.
TRAINING_DEPENDENT = {
    "Transform.transform_graph",
    "Transform.transformed_examples",
    "Transform.updated_analyzer_cache",
    "Trainer.model",
    "Trainer.model_run",
    "Evaluator.evaluation",
    "Evaluator.blessing",
    "Pusher.pushed_model",
}
PUSH_PROPERTIES = ("c:pushed_destination", "c:pushed_version")


def _comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    snapshot = without(snapshot, "uri")
    for key, output in snapshot["outputs"].items():
        if key in TRAINING_DEPENDENT:
            output.pop("fingerprint")
            for name in PUSH_PROPERTIES:
                output["properties"].pop(name, None)
    return snapshot


def _run(driver: Any, root: Path, work: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("PENGUIN_ROOT", str(root))
    monkeypatch.setenv("PENGUIN_TRAIN_STEPS", "50")
    work.mkdir(parents=True, exist_ok=True)
    outcome = driver.run_pipeline(PIPELINE, root, work)
    assert outcome.succeeded, outcome.log[-5000:]
    return _comparable(run_snapshot(root, "penguin", outcome.run_id))


def test_penguin_on_beam_leaves_what_the_local_runner_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _run(local_in_process, tmp_path / "local", tmp_path / "w", monkeypatch)
    assert set(reference["executions"]) == set(NODES)
    assert {n: [e["state"] for e in ex] for n, ex in reference["executions"].items()} == {
        n: ["COMPLETE"] for n in reference["executions"]
    }
    # Nodes in the Beam worker: each node's own Beam pipelines nest in the orchestrating one.
    # (The default, a process per node, re-imports TensorFlow for every node: +2 min here;
    # the conformance suite covers it.)
    monkeypatch.setenv("HEADRACE_CONFORMANCE_BEAM_ARGS", "--headrace_isolation=in-process")
    snapshot = _run(beam, tmp_path / "beam", tmp_path / "w", monkeypatch)
    assert snapshot == reference
