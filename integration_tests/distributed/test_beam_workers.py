"""The penguin and taxi pipelines' Beam work in other processes than the driver's.

Each pipeline runs once in one process (the reference), then with ``beam_pipeline_args`` for
(a) the multi-process DirectRunner and (b) the PortableRunner with ``EXTERNAL`` SDK workers:
two worker pools started as separate processes from empty directories, with no PYTHONPATH,
so the Transform's preprocessing_fn reaches them only as the wheel headrace stages with
``--extra_package`` (see _beam_workers.py for the pools' boot program, a stand-in for the
SDK container's). Each variant runs in a fresh root (Beam arguments are not in the cache key).

What is compared with the reference: the statistics and the schema; the transform graph, by
applying both graphs to the same raw examples (the analyzers' outputs: means, variances,
vocabularies, bucket boundaries); the evaluation metrics and the BulkInferrer's predictions,
from an Evaluator and a BulkInferrer run on the reference run's examples and model (a model
trained on differently sharded data would differ).
Record order changes under several workers, so statistics are compared per feature, with a
floating-point tolerance for sums merged in another order.

Bounds, for the time budget (about 5 minutes on 2 cores): each variant runs its whole pipeline,
training 10 steps; the references stop where nothing more is compared (penguin at the
Evaluator, taxi at the Transform).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("headrace_evaluator", reason="needs every component package installed")
pytest.importorskip("headrace_transform", reason="needs every component package installed")
pytest.importorskip("headrace_bulkinferrer", reason="needs every component package installed")

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _beam_workers import (  # noqa: E402
    MULTI_PROCESS,
    ChildWorkers,
    WorkerPool,
    bind_loopback,
    external_args,
    start_pools,
    stop_pools,
)

from headrace_core import Examples, Importer, Model, Pipeline  # noqa: E402
from headrace_core.orchestration.local import LocalDagRunner, RunResult  # noqa: E402

EXAMPLES = HERE.parents[1] / "examples"
MODES = ["multi_process", "external"]


def _example(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"beam_workers_{name}", EXAMPLES / name / "pipeline.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pipeline(name: str, root: Path, beam_args: list[str]) -> Pipeline:
    example = _example(name).create_pipeline()
    return Pipeline(
        example.pipeline_name, str(root), example.components, beam_pipeline_args=beam_args
    )


def _run(pipeline: Pipeline, to_nodes: list[str] | None = None) -> RunResult:
    with bind_loopback():
        result = LocalDagRunner(max_parallel=1).run(pipeline, to_nodes=to_nodes)
    assert result.succeeded, result.to_json()
    args = " ".join(
        a for a in pipeline.beam_pipeline_args if "running_mode" in a or "environment_type" in a
    )
    times = ", ".join(f"{n} {r.duration:.1f}s" for n, r in result.results.items() if r.duration)
    print(f"\n{pipeline.pipeline_name} [{args or 'one process'}]: {times}")
    return result


def _uri(result: RunResult, node: str, output: str) -> Path:
    [artifact] = result.results[node].outputs[output]
    return Path(artifact.uri)


# Fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _own_pythonpath() -> Iterator[None]:
    """The user-code loader puts the examples' folders on this process's PYTHONPATH (for
    the multi-process workers); later test files' processes must not inherit them."""
    saved = os.environ.get("PYTHONPATH")
    yield
    if saved is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = saved


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[WorkerPool]]:
    started = start_pools(2, tmp_path_factory.mktemp("pools"))
    try:
        yield started
    finally:
        stop_pools(started)


@pytest.fixture(scope="module")
def penguin(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PENGUIN_TRAIN_STEPS", "10")
        root = tmp_path_factory.mktemp("penguin-single")
        return _run(_pipeline("penguin", root, []), to_nodes=["Evaluator"])


@pytest.fixture(scope="module")
def penguin_predictions(penguin: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The BulkInferrer's predictions in one process, on the reference run's model."""
    return _predictions(
        _evaluate(tmp_path_factory.mktemp("infer-single"), penguin, [], evaluate=False)
    )


@pytest.fixture(scope="module")
def taxi(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    root = tmp_path_factory.mktemp("taxi-single")
    return _run(_pipeline("taxi", root, []), to_nodes=["Transform"])


def _beam_args(mode: str, pool: WorkerPool) -> list[str]:
    return MULTI_PROCESS if mode == "multi_process" else external_args(pool)


# What ran where ----------------------------------------------------------------------------


def _check_workers(mode: str, pool: WorkerPool, children: ChildWorkers, module: str) -> None:
    """The work ran in two or more worker processes: the driver's children (multi-process),
    or the pool's (external), which imported the user's module from the staged wheel."""
    pool_pids = {pool.process.pid}
    if mode == "multi_process":
        busy = children.not_below(pool_pids, cpu=1.0)
        assert len(busy) >= 2, f"workers seen (pid: CPU s, under): {children.seen}"
        return
    local = children.not_below(pool_pids)
    assert not local, f"the external run started SDK workers of its own: {children.seen}"
    assert len(children.below(pool_pids, cpu=1.0)) >= 2, children.seen
    workers = pool.workers()
    assert len(workers) >= 2, pool.log.read_text()[-3000:]
    for worker in workers:
        assert worker["ppid"] == pool.process.pid, worker
        assert worker["cwd"] == str(pool.cwd), worker
        assert not any(str(EXAMPLES) in p or "user_code" in p for p in worker["sys_path"]), worker
    assert list(pool.cwd.iterdir()) == [], "the pools' working directory must stay empty"
    # The Transform's workers unpickled the preprocessing_fn: its module, from the wheel.
    users = [w for w in workers if any(m.startswith(module) for m in w["user_modules"])]
    assert users, f"no pool worker imported {module}*: {workers}"
    site = Path(pool.folder / "workers" / users[0]["worker"] / "site-packages")
    assert any(site.glob(f"{module}*/__init__.py")), sorted(p.name for p in site.iterdir())
    assert sum(w["cpu_s"] for w in workers) >= 5.0, workers


# Comparisons -------------------------------------------------------------------------------


def _close(a: Any, b: Any, where: str = "") -> list[str]:
    """Differences between two JSON-like values; floats within 1e-6 (relative or absolute):
    float32 z-scores near 0 computed from means summed in another order differ by ~1e-7."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}: keys {sorted(set(a) ^ set(b))}"] if set(a) != set(b) else []
        for k in sorted(set(a) & set(b)):
            out += _close(a[k], b[k], f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _close(x, y, f"{where}[{i}]")
        ]
    numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
    if isinstance(a, float) or isinstance(b, float):
        if numbers and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6):
            return []
    elif a == b:
        return []
    return [f"{where}: {a!r} vs {b!r}"]


def _statistics(uri: Path) -> dict[str, Any]:
    from google.protobuf import json_format
    from tensorflow_metadata.proto.v0 import statistics_pb2

    splits: dict[str, Any] = {}
    for path in sorted(uri.glob("Split-*/FeatureStats.pb")):
        stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
        [dataset] = stats.datasets
        features = {
            json.dumps(json_format.MessageToDict(f.path)): json_format.MessageToDict(f)
            for f in dataset.features
        }
        splits[path.parent.name] = {"num_examples": dataset.num_examples, "features": features}
    assert splits, f"no statistics under {uri}"
    return splits


def _schema(uri: Path) -> str:
    """The schema with its features and string domains by name: their order follows the
    statistics', which depends on how the workers' partial results were merged."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    return _by_name(text_format.Parse((uri / "schema.pbtxt").read_text(), schema_pb2.Schema()))


def _by_name(schema: Any) -> str:
    from google.protobuf import text_format

    copy = type(schema)()
    copy.CopyFrom(schema)
    del copy.feature[:]
    copy.feature.extend(sorted(schema.feature, key=lambda f: f.name))
    del copy.string_domain[:]
    copy.string_domain.extend(sorted(schema.string_domain, key=lambda d: d.name))
    return str(text_format.MessageToString(copy))


def _transformed(graph: Path, examples: Path) -> dict[str, Any]:
    """The graph applied to the reference run's first 64 raw eval examples, as lists."""
    import tensorflow as tf
    import tensorflow_transform as tft

    output = tft.TFTransformOutput(str(graph))
    files = sorted(str(p) for p in examples.glob("Split-eval/*"))
    records = list(tf.data.TFRecordDataset(files, compression_type="GZIP").take(64))
    raw = tf.io.parse_example(tf.stack(records), output.raw_feature_spec())
    values: dict[str, Any] = {}
    for name, tensor in output.transform_raw_features(raw).items():
        if isinstance(tensor, tf.SparseTensor):
            dense = tf.sparse.to_dense(tensor)
        elif isinstance(tensor, tf.RaggedTensor):
            dense = tensor.to_tensor()
        else:
            dense = tensor
        values[name] = dense.numpy().tolist()
    return {"schema": _by_name(output.transformed_metadata.schema), "features": values}


def _metrics(result: RunResult) -> Any:
    """metrics.json without the model's artifact id (each run imports the model anew)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "model_id"}
        return [strip(v) for v in value] if isinstance(value, list) else value

    path = _uri(result, "Evaluator", "evaluation") / "metrics.json"
    return strip(json.loads(path.read_text()))


def _model_nodes(reference: RunResult) -> tuple[Importer, Importer]:
    """Importers of the reference run's examples and model: the penguin Evaluator and
    BulkInferrer run on them alone (a model trained on differently sharded data would
    differ)."""
    examples = Importer(
        source_uri=str(_uri(reference, "CsvExampleGen", "examples")),
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("ImportExamples")
    model = Importer(
        source_uri=str(_uri(reference, "Trainer", "model")), artifact_type=Model
    ).with_id("ImportModel")
    return examples, model


def _evaluate(
    root: Path, reference: RunResult, beam_args: list[str], *, evaluate: bool = True
) -> RunResult:
    """The penguin BulkInferrer (and, with ``evaluate``, the Evaluator) on the reference
    run's examples and model."""
    from headrace_bulkinferrer import BulkInferrer
    from headrace_evaluator import Evaluator

    examples, model = _model_nodes(reference)
    nodes: list[Any] = [examples, model]
    if evaluate:
        nodes.append(
            Evaluator(
                examples=examples.outputs["result"],
                model=model.outputs["result"],
                eval_config=_example("penguin")._eval_config(0.6),
            )
        )
    nodes.append(BulkInferrer(examples=examples.outputs["result"], model=model.outputs["result"]))
    return _run(Pipeline("penguin-evaluate", str(root), nodes, beam_pipeline_args=beam_args))


def _predictions(result: RunResult) -> dict[str, Any]:
    """The BulkInferrer's PredictionLogs, each example's outputs by the example (the order of
    the records follows the workers)."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    files = sorted(str(p) for p in _uri(result, "BulkInferrer", "inference_result").glob("*.gz"))
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    by_example: dict[str, Any] = {}
    for record in records:
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        [request] = list(log.predict_log.request.inputs.values())
        outputs = log.predict_log.response.outputs
        by_example[request.string_val[0].hex()] = {
            key: tf.make_ndarray(outputs[key]).tolist() for key in sorted(outputs)
        }
    assert len(by_example) == 334, f"{len(by_example)} distinct examples inferred, not 334"
    return by_example


def _assert_same(reference: RunResult, other: RunResult) -> None:
    ref_stats = _statistics(_uri(reference, "StatisticsGen", "statistics"))
    differences = _close(ref_stats, _statistics(_uri(other, "StatisticsGen", "statistics")))
    assert not differences, "\n".join(differences[:20])
    assert _schema(_uri(other, "SchemaGen", "schema")) == _schema(
        _uri(reference, "SchemaGen", "schema")
    )
    examples = _uri(reference, "CsvExampleGen", "examples")
    expected = _transformed(_uri(reference, "Transform", "transform_graph"), examples)
    actual = _transformed(_uri(other, "Transform", "transform_graph"), examples)
    differences = _close(expected, actual)
    assert not differences, "\n".join(differences[:20])


# Tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_penguin(
    mode: str,
    penguin: RunResult,
    penguin_predictions: Any,
    pools: list[WorkerPool],
    tmp_path: Path,
) -> None:
    pool = pools[0]
    pool.forget_workers()
    args = _beam_args(mode, pool)
    with ChildWorkers().watching() as children, pytest.MonkeyPatch.context() as env:
        env.setenv("PENGUIN_TRAIN_STEPS", "10")
        # The whole pipeline (through the Pusher); its own model was trained on data sharded
        # another way, so the model's results are compared on the reference model below.
        result = _run(_pipeline("penguin", tmp_path / "penguin", args))
        evaluated = _evaluate(tmp_path / "evaluate", penguin, args)
    _check_workers(mode, pool, children, "headrace_user_penguin_utils_")
    _assert_same(penguin, result)
    differences = _close(_metrics(penguin), _metrics(evaluated))
    assert not differences, "\n".join(differences[:20])
    differences = _close(penguin_predictions, _predictions(evaluated))
    assert not differences, "\n".join(differences[:20])


@pytest.mark.parametrize("mode", MODES)
def test_taxi(mode: str, taxi: RunResult, pools: list[WorkerPool], tmp_path: Path) -> None:
    pool = pools[1]
    pool.forget_workers()
    with ChildWorkers().watching() as children, pytest.MonkeyPatch.context() as env:
        env.setenv("TAXI_TRAIN_STEPS", "10")
        # The whole pipeline, its Trainer included (which does no Beam work).
        result = _run(_pipeline("taxi", tmp_path / "taxi", _beam_args(mode, pool)))
    _check_workers(mode, pool, children, "headrace_user_taxi_utils_")
    _assert_same(taxi, result)
