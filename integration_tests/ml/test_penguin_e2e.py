"""The penguin pipeline end to end over repeated runs, TFX's end-to-end pattern: exact numbers
of executions and artifacts after each run, lineage from the pushed model back to the CSV, and
a pushed model that serves predictions from raw serialized examples.

Run 1 executes every node and pushes a model. Run 2, with nothing changed, caches everything up
to the Trainer; the Evaluator runs again because it now has a baseline (the model run 1
blessed), and the Pusher runs again for the new blessing but finds that model already pushed.
Run 3 executes nothing new. Run 4 asks for an accuracy no model reaches: NOT_BLESSED, nothing
pushed, the run still succeeds, and ``headrace show`` says which metric, slice and threshold
failed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("headrace_evaluator", reason="needs every component package installed")
pytest.importorskip("headrace_pusher", reason="needs every component package installed")

from penguin_example import DATA, NODES, PIPELINE, RESOLVER, UP_TO_TRAINER

from headrace_core.metadata import MetadataStore, custom, default_metadata_url

REPO = Path(__file__).resolve().parents[2]
# MLMD execution states.
COMPLETE, CACHED = 3, 5


def _headrace(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headrace_core.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PENGUIN_ROOT": str(root), "PENGUIN_TRAIN_STEPS": "100", **env},
        cwd=REPO,
        timeout=1200,
        check=False,
    )


# `headrace run` in a process that reports, at exit, which heavy libraries it imported.
_PROBE = (
    "import sys\n"
    "from headrace_core.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "heavy = [m for m in ('tensorflow', 'apache_beam', 'tensorflow_data_validation',"
    " 'tensorflow_model_analysis') if m in sys.modules]\n"
    "print('HEAVY', heavy, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _run(root: Path, **env: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, "run", PIPELINE, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PENGUIN_ROOT": str(root), "PENGUIN_TRAIN_STEPS": "100", **env},
        cwd=REPO,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    result = json.loads(proc.stdout)
    console, heavy = proc.stderr.rsplit("HEAVY ", 1)
    result["heavy_imports"] = heavy.strip()
    result["console"] = console
    return result


# TensorFlow's C++ logging ("2026-12-03 15:15:51.218623: I tensorflow/core/...") and absl's
# ("I0000 00:00:...") start their lines so; library deprecations are FutureWarnings and
# DeprecationWarnings.
_NOISE = re.compile(
    r"^(\d{4}-\d\d-\d\d [\d:.]+: [IWEF] |[IWEF]\d{4} )|FutureWarning|DeprecationWarning", re.M
)


def _statuses(result: dict[str, Any]) -> dict[str, str]:
    return {node: r["status"] for node, r in result["nodes"].items()}


def _counts(store: MetadataStore) -> dict[str, int]:
    return {
        "executions": len(store.call("get_executions")),
        "artifacts": len(store.call("get_artifacts")),
    }


def _output(result: dict[str, Any], node: str, key: str) -> int:
    (artifact_id,) = result["nodes"][node]["outputs"][key]
    return int(artifact_id)


def _artifact(store: MetadataStore, artifact_id: int) -> Any:
    (proto,) = store.artifacts([artifact_id])
    return proto


def _serving_predictions(model_dir: Path) -> tuple[int, int]:
    """(correct, total) of the pushed model on raw serialized examples from the CSV."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    with open(DATA, newline="") as f:
        rows = list(csv.DictReader(f))[:60]
    serialized, labels = [], []
    for row in rows:
        features = {
            k: tf.train.Feature(float_list=tf.train.FloatList(value=[float(v)]))
            for k, v in row.items()
            if k != "species"
        }
        example = tf.train.Example(features=tf.train.Features(feature=features))
        serialized.append(example.SerializeToString())
        labels.append(int(row["species"]))
    loaded = tf.saved_model.load(str(model_dir))
    serve = loaded.signatures["serving_default"]
    (logits,) = serve(examples=tf.constant(serialized)).values()
    assert logits.shape == (len(rows), 3)
    predicted = tf.argmax(logits, axis=1).numpy().tolist()
    return sum(int(p == y) for p, y in zip(predicted, labels, strict=True)), len(rows)


def test_penguin_end_to_end_over_repeated_runs(tmp_path: Path) -> None:
    root = tmp_path / "penguin"
    serving = root / "serving_model"

    # Run 1: everything executes; the model is blessed (no baseline yet) and pushed.
    first = _run(root)
    assert _statuses(first) == dict.fromkeys(NODES, "complete")
    # The console holds headrace's lines only; what TensorFlow and its friends print is in
    # the nodes' logs.
    assert not _NOISE.search(first["console"]), first["console"][-3000:]
    logs = root / ".headrace" / "runs" / first["run_id"] / "logs"
    assert _NOISE.search("".join(p.read_text() for p in logs.glob("*.log")))
    store = MetadataStore(default_metadata_url(str(root)))
    after_first = _counts(store)
    blessing = _artifact(store, _output(first, "Evaluator", "blessing"))
    assert custom(blessing, "blessed") == 1
    assert (Path(blessing.uri) / "BLESSED").exists()
    assert custom(blessing, "current_model_id") == _output(first, "Trainer", "model")
    assert custom(blessing, "baseline_model_id") is None  # first run: no baseline
    pushed = _artifact(store, _output(first, "Pusher", "pushed_model"))
    assert custom(pushed, "pushed") == 1
    versions = sorted(p.name for p in serving.iterdir() if p.name.isdigit())
    assert len(versions) == 1
    assert custom(pushed, "pushed_destination") == str(serving / versions[0])
    assert (serving / versions[0] / "saved_model.pb").exists()

    # Lineage: pushed model <- Pusher <- Trainer <- Transform <- CsvExampleGen (the CSV).
    proc = _headrace(
        root, "lineage", str(pushed.id), "--upstream", "--json", "--pipeline-root", str(root)
    )
    assert proc.returncode == 0, proc.stderr
    lineage = json.loads(proc.stdout)
    nodes_upstream = {step["node_id"] for step in lineage["steps"]}
    assert {
        "Pusher",
        "Evaluator",
        "Trainer",
        "Transform",
        "SchemaGen",
        "StatisticsGen",
        "CsvExampleGen",
    } <= nodes_upstream
    example_gen_steps = [s for s in lineage["steps"] if s["node_id"] == "CsvExampleGen"]
    assert example_gen_steps and example_gen_steps[0]["inputs"] == []
    (examples_row,) = [lineage["artifacts"][str(a)] for a in example_gen_steps[0]["outputs"]]
    assert examples_row["type"] == "Examples"
    example_gen = store.call("get_executions_by_id", [example_gen_steps[0]["execution_id"]])[0]
    assert str(REPO / "examples" / "penguin" / "data") in json.dumps(
        {k: str(v) for k, v in example_gen.custom_properties.items()}
    )

    # The pushed model serves predictions from raw serialized tf.Examples.
    correct, total = _serving_predictions(serving / versions[0])
    assert correct / total > 0.8, (correct, total)

    # Run 2: cached up to the Trainer; the Evaluator compares against run 1's blessed model.
    second = _run(root)
    assert _statuses(second) == {
        **dict.fromkeys(UP_TO_TRAINER, "cached"),
        RESOLVER: "complete",
        "Evaluator": "complete",
        "Pusher": "complete",
    }
    after_second = _counts(store)
    # 9 new executions (6 cached, resolver, Evaluator, Pusher); new artifacts: the evaluation,
    # the blessing and the pushed-model record. The cached nodes and the resolver link
    # existing artifacts.
    assert after_second["executions"] == after_first["executions"] + 9
    assert after_second["artifacts"] == after_first["artifacts"] + 3
    blessing2 = _artifact(store, _output(second, "Evaluator", "blessing"))
    assert custom(blessing2, "blessed") == 1
    assert custom(blessing2, "baseline_model_id") == _output(first, "Trainer", "model")
    assert _output(second, RESOLVER, "model") == _output(first, "Trainer", "model")
    pushed2 = _artifact(store, _output(second, "Pusher", "pushed_model"))
    assert custom(pushed2, "pushed") == 1
    # The same model again: recorded as the version already serving, no new directory.
    assert custom(pushed2, "pushed_version") == versions[0]
    assert sorted(p.name for p in serving.iterdir() if p.name.isdigit()) == versions

    # Run 3: nothing new executes, and no executor library is even imported.
    third = _run(root)
    assert _statuses(third) == {**dict.fromkeys(NODES, "cached"), RESOLVER: "complete"}
    assert third["heavy_imports"] == "[]"
    after_third = _counts(store)
    assert after_third["executions"] == after_second["executions"] + 9
    assert after_third["artifacts"] == after_second["artifacts"]

    # Run 4: an accuracy no model reaches. NOT_BLESSED, nothing pushed, the run succeeds.
    fourth = _run(root, PENGUIN_MIN_ACCURACY="1.01")
    statuses = _statuses(fourth)
    assert statuses["Evaluator"] == "complete"
    assert statuses["Pusher"] == "skipped"
    blessing4 = _artifact(store, _output(fourth, "Evaluator", "blessing"))
    assert custom(blessing4, "blessed") == 0
    assert (Path(blessing4.uri) / "NOT_BLESSED").exists()
    assert sorted(p.name for p in serving.iterdir() if p.name.isdigit()) == versions
    shown = _headrace(root, "show", str(blessing4.id), "--pipeline-root", str(root))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "NOT_BLESSED" in text or "not blessed" in text.lower(), text
    assert "sparse_categorical_accuracy" in text, text
    assert "1.01" in text, text
    assert "Overall" in text or "overall" in text, text
