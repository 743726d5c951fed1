"""User code as the cache key sees it, and as Beam's worker processes need it.

One pipeline run twice in this process. First with TFX's own multi-process Beam arguments:
the preprocessing_fn must be importable by name in the DirectRunner's worker interpreters.
Then, after a helper beside the module file is edited, in memory (Beam arguments are not part
of the cache key, and worker processes start ~20 s apart here): the node must re-run on the
edited helper, not on the version this process imported first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hrtf_util import Data

from headrace_core import Examples, Importer, Pipeline, Schema
from headrace_core.orchestration.local import LocalDagRunner

MULTI_PROCESS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]

MODULE = """\
import tensorflow_transform as tft

import hrtf_scaling


def preprocessing_fn(inputs):
    outputs = {
        f"{key}_{hrtf_scaling.SUFFIX}": tft.scale_to_z_score(inputs[key])
        for key in ("body_mass_g", "culmen_length_mm")
    }
    outputs["species"] = inputs["species"]
    return outputs
"""


def _pipeline(root: Path, data: Data, module_file: Path, beam_args: list[str]) -> Pipeline:
    from headrace_transform import Transform

    examples = Importer(
        source_uri=data.examples.uri,
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("ImportExamples")
    schema = Importer(source_uri=data.schema.uri, artifact_type=Schema).with_id("ImportSchema")
    transform = Transform(
        examples=examples.outputs["result"],
        schema=schema.outputs["result"],
        module_file=str(module_file),
    )
    return Pipeline(
        "transform-user-code",
        str(root),
        [examples, schema, transform],
        beam_pipeline_args=beam_args,
    )


def test_multi_process_workers_and_an_edited_helper(
    pipeline_root: Path, tmp_path: Path, penguin: Data, tft: Any
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    module = folder / "preprocessing.py"
    module.write_text(MODULE)
    helper = folder / "hrtf_scaling.py"
    helper.write_text('SUFFIX = "xf"\n')
    first = LocalDagRunner().run(_pipeline(pipeline_root, penguin, module, MULTI_PROCESS))
    assert first.succeeded, first.to_json()
    [graph] = first.results["Transform"].outputs["transform_graph"]
    assert "body_mass_g_xf" in tft.TFTransformOutput(graph.uri).transformed_feature_spec()

    # Only the helper changes: the module file's own hash is the same.
    helper.write_text('SUFFIX = "scaled"\n')
    second = LocalDagRunner().run(_pipeline(pipeline_root, penguin, module, []))
    assert second.succeeded, second.to_json()
    assert second.results["Transform"].status == "complete"
    [edited] = second.results["Transform"].outputs["transform_graph"]
    features = tft.TFTransformOutput(edited.uri).transformed_feature_spec()
    assert "body_mass_g_scaled" in features and "body_mass_g_xf" not in features
