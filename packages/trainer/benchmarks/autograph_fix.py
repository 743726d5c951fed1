"""How much the AutoGraph ``DoNotConvert('tf_keras')`` rule saves on the penguin Trainer.

``python packages/trainer/benchmarks/autograph_fix.py [--repeat N] [--steps S]`` builds the
penguin test data once, then trains the penguin module (``tests/fixtures/penguin_module.py``)
through ``Executor().Do`` in fresh interpreters, alternating: with the executor's fix, and with
it disabled. It prints the wall and CPU time ``run_fn`` took (training, two evaluations,
export; CPU time is the steadier figure on a shared machine) and the eval loss of each, so the
results can be seen to be of the same kind.

Needs the package's test environment (``headrace-trainer[test]``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"

CHILD = """
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path[:0] = [{support!r}, {fixtures!r}]
import headrace_trainer.executor as executor
from headrace_core import Model, ModelRun
from trainer_testing import PenguinData

if not {fix!r}:
    executor.disable_autograph_for_tf_keras = lambda: False
data = PenguinData(**{{k: __import__("pathlib").Path(v) for k, v in {data!r}.items()}})
out = {out!r}
model, run = Model(out + "/model"), ModelRun(out + "/run")
times = {{}}
original = executor.load_run_fn

def timed(props):
    fn = original(props)
    def run_fn(fn_args):
        started, cpu = time.monotonic(), time.process_time()
        fn(fn_args)
        times["run_fn"] = time.monotonic() - started
        times["run_fn_cpu"] = time.process_time() - cpu
    return run_fn

executor.load_run_fn = timed
executor.Executor().Do(
    {{"examples": [data.examples_artifact()], "transform_graph": [data.transform_artifact()],
      "schema": [data.schema_artifact()]}},
    {{"model": [model], "model_run": [run]}},
    {{"module_file": {module!r}, "train_args": {{"num_steps": {steps}}},
      "eval_args": {{"num_steps": 5}}}},
)
losses = json.load(open(out + "/run/losses.json"))
print(json.dumps({{**times, "final_eval_loss": losses["final_eval_loss"]}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    sys.path[:0] = [str(TESTS / "support"), str(TESTS / "fixtures")]
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    from trainer_testing import make_penguin_data

    with tempfile.TemporaryDirectory(prefix="headrace-bench-") as scratch:
        data = make_penguin_data(Path(scratch) / "data")
        fields = {k: str(v) for k, v in vars(data).items()}
        results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for i in range(args.repeat):
            for fix in (True, False):
                out = Path(scratch) / f"run-{i}-{fix}"
                code = CHILD.format(
                    support=str(TESTS / "support"),
                    fixtures=str(TESTS / "fixtures"),
                    fix=fix,
                    data=fields,
                    out=str(out),
                    module=str(TESTS / "fixtures" / "penguin_module.py"),
                    steps=args.steps,
                )
                started = time.monotonic()
                done = subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                )
                result = json.loads(done.stdout.strip().splitlines()[-1])
                result["process"] = time.monotonic() - started
                results[fix].append(result)
                print(f"fix={fix!s:5} " + json.dumps(result), flush=True)
        for fix in (True, False):
            runs = results[fix]
            print(
                f"{'with' if fix else 'without'} the fix, median of {len(runs)}: run_fn "
                f"{statistics.median(r['run_fn'] for r in runs):.1f} s wall, "
                f"{statistics.median(r['run_fn_cpu'] for r in runs):.1f} s CPU; whole process "
                f"{statistics.median(r['process'] for r in runs):.1f} s"
            )


if __name__ == "__main__":
    main()
