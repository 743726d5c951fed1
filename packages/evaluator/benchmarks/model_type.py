"""TFMA's model type detection against ``model_type: "tf_generic"`` on the penguin evaluation.

``python packages/evaluator/benchmarks/model_type.py [--repeat N] [--data DIR]`` builds the
penguin test data once (examples, schema, a trained tf_keras model; see
``tests/support/evaluator_testing.py``), then, in one process, runs ``Executor().Do`` on the
eval split alternately with the executor's default (``tf_generic`` when a model_spec sets no
type) and with detection (``model_type`` left empty, as TFX leaves it). The first run of each
is a warm-up (imports, tracing) and is reported apart. It prints the wall and CPU time of each
``Do`` and whether the configured metrics are equal on every slice.

With ``--fresh`` each run is a fresh interpreter instead (as a node runs in a pipeline):
TensorFlow, TFMA and Beam are imported first, then ``Do`` is timed, so the figures are the
evaluation's own cost, cold (first model load, first traces).

Needs the package's test environment (``headrace-evaluator[test]``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

EVAL_CONFIG = """
model_specs { label_key: "species" }
metrics_specs {
  metrics { class_name: "SparseCategoricalAccuracy"
    threshold { value_threshold { lower_bound { value: 0.6 } } } }
  metrics { class_name: "ExampleCount" }
}
slicing_specs {}
slicing_specs { feature_keys: "species" }
"""


def _run(data: Any, out: Path, detect: bool) -> tuple[float, float, dict[str, Any]]:
    from headrace_core import ModelBlessing, ModelEvaluation
    from headrace_evaluator import executor, normalize_eval_config

    executor.DEFAULT_MODEL_TYPE = "" if detect else "tf_generic"
    evaluation = ModelEvaluation(str(out / "evaluation"))
    blessing = ModelBlessing(str(out / "blessing"))
    started, cpu = time.monotonic(), time.process_time()
    executor.Executor().Do(
        {
            "examples": [data.examples_artifact()],
            "model": [data.model_artifact()],
            "schema": [data.schema_artifact()],
        },
        {"evaluation": [evaluation], "blessing": [blessing]},
        {"eval_config": normalize_eval_config(EVAL_CONFIG)},
    )
    wall, cpu = time.monotonic() - started, time.process_time() - cpu
    document = json.loads((out / "evaluation" / "metrics.json").read_text())
    return wall, cpu, document


def _run_fresh(data_root: Path, out: Path, detect: bool) -> tuple[float, float, dict[str, Any]]:
    import subprocess

    code = f"""
import json, sys, time
sys.path.insert(0, {str(HERE)!r})
import apache_beam, tensorflow, tensorflow_model_analysis  # imports are not what is timed
from pathlib import Path
from model_type import _run
from evaluator_testing import PenguinData
root = Path({str(data_root)!r})
data = PenguinData(root / "examples", root / "schema", root / "model", root / "weak_model")
wall, cpu, document = _run(data, Path({str(out)!r}), {detect!r})
print(json.dumps({{"wall": wall, "cpu": cpu}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    times = json.loads(done.stdout.strip().splitlines()[-1])
    document = json.loads((out / "evaluation" / "metrics.json").read_text())
    return times["wall"], times["cpu"], document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, after warm-up")
    parser.add_argument("--data", help="an existing directory of make_penguin_data's output")
    parser.add_argument("--fresh", action="store_true", help="each run in a fresh interpreter")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from evaluator_testing import PenguinData, make_penguin_data

    work = Path(tempfile.mkdtemp(prefix="evaluator-bench-"))
    root = Path(args.data) if args.data else work / "data"
    if args.data:
        data = PenguinData(root / "examples", root / "schema", root / "model", root / "weak_model")
    else:
        data = make_penguin_data(root)

    runs: dict[str, list[tuple[float, float]]] = {"tf_generic": [], "detection": []}
    documents: dict[str, dict[str, Any]] = {}
    for i in range(args.repeat + 1):
        for label in ("tf_generic", "detection") if i % 2 == 0 else ("detection", "tf_generic"):
            out = work / f"{label}-{i}"
            if args.fresh:
                wall, cpu, document = _run_fresh(root, out, label == "detection")
            else:
                wall, cpu, document = _run(data, out, label == "detection")
            documents[label] = document
            tag = "warm-up" if i == 0 and not args.fresh else f"run {i + args.fresh}"
            print(f"{label:<10} {tag:<8} wall {wall:6.2f} s  cpu {cpu:6.2f} s", flush=True)
            if i or args.fresh:
                runs[label].append((wall, cpu))
    for label, timings in runs.items():
        walls = [w for w, _ in timings]
        cpus = [c for _, c in timings]
        print(
            f"{label:<10} median wall {statistics.median(walls):.2f} s, "
            f"median cpu {statistics.median(cpus):.2f} s over {len(timings)} runs"
        )

    generic, detected = documents["tf_generic"], documents["detection"]
    configured = generic["metric_names"]
    equal = all(
        {m: a["metrics"].get(m) for m in configured} == {m: b["metrics"].get(m) for m in configured}
        and a["slice"] == b["slice"]
        for a, b in zip(generic["slices"], detected["slices"], strict=True)
    )
    extra = sorted(set(detected["metric_names"]) - set(configured))
    print(f"configured metrics equal on every slice: {equal}")
    print(f"metrics only with detection (the model's compiled metrics): {extra or 'none'}")
    for row in generic["slices"]:
        print(f"  {row['slice']:<10} {json.dumps(row['metrics'], sort_keys=True)}")


if __name__ == "__main__":
    main()
