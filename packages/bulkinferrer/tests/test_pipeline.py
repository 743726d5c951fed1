"""The BulkInferrer as a pipeline node: published outputs, the blessing gate, caching, and
TFX's own Beam arguments (the multi-process DirectRunner) giving the one-process result."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bulkinferrer_testing import SPLIT_NAMES, PenguinData, read_records

from headrace_bulkinferrer import BulkInferrer
from headrace_core import Examples, Importer, Model, ModelBlessing, Pipeline
from headrace_core.orchestration.local import LocalDagRunner
from headrace_core.runtime import RunResult, Status

MULTI_PROCESS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def _pipeline(
    root: Path, penguin: PenguinData, beam_args: list[str], *, blessed: int = 1, **kwargs: Any
) -> Pipeline:
    examples = Importer(
        source_uri=str(penguin.examples),
        artifact_type=Examples,
        properties={"split_names": SPLIT_NAMES, "span": 0},
    ).with_id("ImportExamples")
    model = Importer(source_uri=str(penguin.model), artifact_type=Model).with_id("ImportModel")
    (root / "blessing").mkdir(parents=True, exist_ok=True)
    blessing = Importer(
        source_uri=str(root / "blessing"),
        artifact_type=ModelBlessing,
        custom_properties={"blessed": blessed},
    ).with_id("ImportBlessing")
    inferrer = BulkInferrer(
        examples=examples.outputs["result"],
        model=model.outputs["result"],
        model_blessing=blessing.outputs["result"],
        **kwargs,
    )
    return Pipeline(
        "bulk_infer",
        str(root / "pipeline"),
        [examples, model, blessing, inferrer],
        beam_pipeline_args=beam_args,
    )


def _run(pipeline: Pipeline) -> RunResult:
    result = LocalDagRunner(max_parallel=1).run(pipeline)
    assert result.succeeded, result.to_json()
    return result


def _predictions(result: RunResult) -> dict[bytes, list[float]]:
    """Each example's logits, by the example: the order of the records follows the workers."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    [artifact] = result.results["BulkInferrer"].outputs["inference_result"]
    logs = read_records(
        Path(artifact.uri), "prediction_logs-*.gz", prediction_log_pb2.PredictionLog
    )
    by_example = {}
    for log in logs:
        [request] = list(log.predict_log.request.inputs.values())
        logits = log.predict_log.response.outputs["logits"]
        by_example[request.string_val[0]] = tf.make_ndarray(logits).reshape(-1).tolist()
    assert len(by_example) == len(logs), "an example was inferred twice"
    return by_example


def _same(a: dict[bytes, list[float]], b: dict[bytes, list[float]]) -> bool:
    # Batches differ between runs (Beam sizes them adaptively), and a batch's size may pick
    # another matmul kernel: the last bits of a float can differ.
    return a.keys() == b.keys() and all(
        math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-6)
        for key in a
        for x, y in zip(a[key], b[key], strict=True)
    )


def test_multi_process_beam_gives_the_same_predictions(
    penguin: PenguinData, tmp_path: Path
) -> None:
    one = _run(_pipeline(tmp_path / "one", penguin, []))
    multi = _run(_pipeline(tmp_path / "multi", penguin, MULTI_PROCESS))
    assert len(_predictions(one)) == 334
    assert _same(_predictions(multi), _predictions(one))
    again = _run(_pipeline(tmp_path / "one", penguin, []))
    assert again.results["BulkInferrer"].status == Status.CACHED


def test_output_examples_are_published_with_their_splits(
    penguin: PenguinData, tmp_path: Path
) -> None:
    spec = {
        "output_columns_spec": [
            {
                "predict_output": {
                    "output_columns": [{"output_key": "logits", "output_column": "logits"}]
                }
            }
        ]
    }
    result = _run(
        _pipeline(
            tmp_path, penguin, [], output_example_spec=spec, data_spec={"example_splits": ["eval"]}
        )
    )
    outputs = result.results["BulkInferrer"].outputs
    assert set(outputs) == {"output_examples"}
    [examples] = outputs["output_examples"]
    assert examples.get_property("split_names") == '["eval"]'
    assert sorted(p.name for p in Path(examples.uri).iterdir()) == ["Split-eval"]


def test_not_blessed_completes_with_an_empty_result(penguin: PenguinData, tmp_path: Path) -> None:
    result = _run(_pipeline(tmp_path, penguin, [], blessed=0))
    assert result.results["BulkInferrer"].status == Status.COMPLETE
    [artifact] = result.results["BulkInferrer"].outputs["inference_result"]
    assert list(Path(artifact.uri).iterdir()) == []
