"""A pipeline written as a TFX user writes one (integration_tests/pipelines/tfx_style), run
with the real components: through ``headrace tfx run`` as it is (``from tfx import v1``,
TFX's proto messages, tfma.EvalConfig, absl flags, ``LocalDagRunner().run`` in ``__main__``),
then again (cached up to the Trainer, as TFX), then with ``from headrace_tfx import v1 as tfx``
as the only edit through ``headrace run`` (the same IR: everything cached).

Run by the `examples` nox session (every component package installed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("headrace_tfx", reason="needs headrace-tfx and every component package")
pytest.importorskip("headrace_bulkinferrer", reason="needs every component package installed")
pytest.importorskip("headrace_infravalidator", reason="needs every component package installed")
pytest.importorskip("headrace_tuner", reason="needs every component package installed")
pytest.importorskip("headrace_examplediff", reason="needs every component package installed")

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / "integration_tests" / "pipelines" / "tfx_style" / "penguin_pipeline.py"
UP_TO_TRAINER = [
    "CsvExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Tuner",
    "Trainer",
]
RESOLVERS = ("latest_blessed_model_resolver", "transform_cache_resolver")


def _headrace(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    proc = subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", *args],
        capture_output=True,
        text=True,
        env={**environ, **(env or {})},
        cwd=REPO,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _summary(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    lines = proc.stdout.split("\nsummary:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    found = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[1] in ("done", "cached", "FAILED", "skipped"):
            found[parts[0]] = parts[1]
    return found


def test_a_tfx_style_pipeline_runs_cached_and_through_headrace_run(tmp_path: Path) -> None:
    import tensorflow as tf

    root = tmp_path / "root"
    args = ("tfx", "run", str(PIPELINE), "--pipeline_root", str(root), "--train_steps", "20")
    first = _headrace(*args)
    statuses = _summary(first)
    assert len(statuses) == 16 and set(statuses.values()) == {"done"}, first.stdout
    assert "BLESSED" in first.stdout and "pushed version" in first.stdout
    [report] = root.glob("InfraValidator/blessing/*/infra_validation.json")
    assert '"blessed": true' in report.read_text()
    # The Pusher had no model: it pushed the InfraValidator's stamped one, warm-up included.
    [version] = (root / "serving_model").glob("[0-9]*")
    assert (version / "assets.extra" / "tf_serving_warmup_requests").stat().st_size > 0

    # The Tuner's best trial is what the Trainer trained with.
    [best] = root.glob("Tuner/best_hyperparameters/*/best_hyperparameters.txt")
    [results] = root.glob("Tuner/tuner_results/*/tuner_results.json")
    tuned = json.loads(best.read_text())["values"]
    trials = json.loads(results.read_text())
    assert set(tuned) == {"learning_rate", "num_layers"} and len(trials) == 4
    assert {k: trials[0][k] for k in tuned} == tuned

    # ExampleDiff paired the examples with TFX's skewed copy by culmen length.
    [diff] = root.glob("ExampleDiff/example_diff_result/*/summary.json")
    pairs = {
        (p["test_split"], p["base_split"]): p for p in json.loads(diff.read_text())["split_pairs"]
    }
    assert set(pairs) == {("train", "train"), ("train", "eval")}

    [logs] = root.glob("BulkInferrer/inference_result/*")
    records = list(
        tf.data.TFRecordDataset(sorted(map(str, logs.glob("prediction_logs-*.gz"))), "GZIP")
    )
    [eval_split] = root.glob("CsvExampleGen/examples/*/Split-eval")
    eval_rows = sum(
        1 for _ in tf.data.TFRecordDataset(sorted(map(str, eval_split.iterdir())), "GZIP")
    )
    assert len(records) == eval_rows > 0  # data_spec: the eval split only
    [examples] = root.glob("BulkInferrerExamples/output_examples/*")
    for split in ("train", "eval"):
        files = sorted(map(str, (examples / f"Split-{split}").glob("examples-*.gz")))
        first_record = next(iter(tf.data.TFRecordDataset(files, "GZIP")))
        example = tf.train.Example.FromString(first_record.numpy())
        assert len(example.features.feature["logits"].float_list.value) == 3
        assert "species" in example.features.feature  # the input features stay

    second = _summary(_headrace(*args))
    # Transform too, though the transform_cache_resolver hands it this run's analyzer cache:
    # a cache that only speeds the work up is not in the key.
    cached = [*UP_TO_TRAINER, "BulkInferrerExamples", "InfraValidator", "ExampleDiff"]
    assert all(second[n] == "cached" for n in cached), second
    assert second["Evaluator"] == "done"  # a new baseline: the model just blessed (TFX's rule)

    # The one edit a TFX user makes for `headrace run`: the import.
    text = PIPELINE.read_text()
    assert text.count("\nfrom tfx import v1 as tfx\n") == 1
    edited = tmp_path / "penguin_pipeline.py"
    edited.write_text(
        text.replace(
            "\nfrom tfx import v1 as tfx\n", "\nfrom headrace_tfx import v1 as tfx\n"
        ).replace(
            "_HERE = os.path.dirname(os.path.abspath(__file__))",
            f"_HERE = {str(PIPELINE.parent)!r}",
        )
    )
    third = _headrace(
        "run", str(edited), env={"TFX_STYLE_ROOT": str(root), "TFX_STYLE_TRAIN_STEPS": "20"}
    )
    statuses = _summary(third)
    # A resolver always runs; every component is cached.
    assert [statuses.pop(r) for r in RESOLVERS] == ["done", "done"]
    assert set(statuses.values()) == {"cached"}, third.stdout
