"""The component: its spec, argument checks, the IR, the plugin contract. No TensorFlow."""

from __future__ import annotations

import pytest

from headrace_core import (
    Examples,
    Importer,
    InvalidComponentArgumentError,
    Pipeline,
    Schema,
    TransformCache,
    TransformGraph,
)
from headrace_core import ir as ir_mod
from headrace_core.testing import check_distribution, imported_heavy_modules, tfx_message_class
from headrace_transform import Transform, TransformSpec, __version__
from headrace_transform.component import normalize_splits_config


def _importers() -> tuple[Importer, Importer]:
    examples = Importer(
        source_uri="/data/examples",
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("examples")
    schema = Importer(source_uri="/data/schema", artifact_type=Schema).with_id("schema")
    return examples, schema


def test_tfx_names() -> None:
    assert set(TransformSpec.INPUTS) == {"examples", "schema", "analyzer_cache"}
    assert TransformSpec.INPUTS["analyzer_cache"].optional
    # A fed-back cache must not make every run a miss (TFX's transform_cache_resolver).
    assert not TransformSpec.INPUTS["analyzer_cache"].in_cache_key
    assert set(TransformSpec.PARAMETERS) == {
        "module_file",
        "preprocessing_fn",
        "splits_config",
        "materialize",
        "disable_analyzer_cache",
        "custom_config",
    }
    outputs = TransformSpec.OUTPUTS
    assert outputs["transform_graph"].type is TransformGraph
    assert outputs["transformed_examples"].type is Examples
    assert outputs["updated_analyzer_cache"].type is TransformCache
    for key in ("transformed_examples", "updated_analyzer_cache"):
        assert outputs[key].optional and outputs[key].allow_empty
    assert not outputs["transform_graph"].allow_empty
    assert Transform.EXECUTOR_ENV == {"TF_USE_LEGACY_KERAS": "1"}


def test_defaults_and_ir() -> None:
    examples, schema = _importers()
    transform = Transform(
        examples=examples.outputs["result"],
        schema=schema.outputs["result"],
        module_file="/modules/preprocessing.py",
        splits_config={"analyze": ["train"], "transform": ["eval"]},
        custom_config={"buckets": 3},
    )
    assert transform.exec_properties == {
        "module_file": "/modules/preprocessing.py",
        "splits_config": {"analyze": ["train"], "transform": ["eval"]},
        "materialize": True,
        "disable_analyzer_cache": False,
        "custom_config": {"buckets": 3},
    }
    document = ir_mod.compile(Pipeline("tf", "/tmp/tf", [examples, schema, transform]))
    [node] = [n for n in document["nodes"] if n["id"] == "Transform"]
    assert node["executor"] == "headrace_transform.executor:Executor"
    assert node["environment"] == {"TF_USE_LEGACY_KERAS": "1"}
    assert node["outputs"]["transformed_examples"]["allow_empty"] is True
    assert node["provider"]["distribution"] == "headrace-transform"
    assert node["provider"]["version"] == __version__


def test_dotted_preprocessing_fn_and_cache_input() -> None:
    examples, schema = _importers()
    first = Transform(
        examples=examples.outputs["result"],
        schema=schema.outputs["result"],
        preprocessing_fn="my_package.preprocessing.preprocessing_fn",
        materialize=False,
    )
    second = Transform(
        examples=examples.outputs["result"],
        schema=schema.outputs["result"],
        preprocessing_fn="my_package.preprocessing.preprocessing_fn",
        analyzer_cache=first.outputs["updated_analyzer_cache"],
    ).with_id("Transform2")
    assert second.inputs["analyzer_cache"].producer is first
    assert first.exec_properties["materialize"] is False
    assert "module_file" not in first.exec_properties


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of module_file"),
        (
            {"module_file": "a.py", "preprocessing_fn": "m.preprocessing_fn"},
            "exactly one of module_file .* not both",
        ),
        ({"module_file": ""}, "module_file must be a non-empty path"),
        ({"preprocessing_fn": "preprocessing_fn"}, "dotted path 'module.function'"),
        ({"module_file": "a.py", "splits_config": {"analyze": []}}, "'analyze'\\] cannot be"),
        ({"module_file": "a.py", "splits_config": {"train": ["x"]}}, "unknown key"),
        ({"module_file": "a.py", "splits_config": {"analyze": "train"}}, "list of split names"),
        ({"module_file": "a.py", "splits_config": {"analyze": ["a", "a"]}}, "twice"),
        ({"module_file": "a.py", "materialize": "yes"}, "'materialize' expects bool"),
        ({"module_file": "a.py", "custom_config": {"f": {1, 2}}}, "JSON-serializable"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    examples, schema = _importers()
    with pytest.raises(InvalidComponentArgumentError, match=message):
        Transform(examples.outputs["result"], schema.outputs["result"], **kwargs)  # type: ignore[arg-type]


def test_cache_input_with_cache_disabled_is_refused() -> None:
    examples, schema = _importers()
    first = Transform(examples.outputs["result"], schema.outputs["result"], module_file="a.py")
    with pytest.raises(InvalidComponentArgumentError, match="disable_analyzer_cache=True"):
        Transform(
            examples.outputs["result"],
            schema.outputs["result"],
            module_file="a.py",
            analyzer_cache=first.outputs["updated_analyzer_cache"],
            disable_analyzer_cache=True,
        )


def test_splits_config_json_string_as_tfx_passes_it() -> None:
    assert normalize_splits_config('{"analyze": ["train"]}') == {"analyze": ["train"]}
    assert normalize_splits_config("") is None
    assert normalize_splits_config(None) is None
    with pytest.raises(InvalidComponentArgumentError, match="not valid JSON"):
        normalize_splits_config("{analyze")


def test_splits_config_as_tfxs_message() -> None:
    splits_config = tfx_message_class(
        "tfx.components.transform.SplitsConfig", {"analyze": 1, "transform": 2}
    )
    given = splits_config(analyze=["train"], transform=["train", "eval"])
    assert normalize_splits_config(given) == {"analyze": ["train"], "transform": ["train", "eval"]}


def test_conformance() -> None:
    assert "Transform" in check_distribution("headrace-transform")


def test_defining_a_pipeline_imports_nothing_heavy() -> None:
    code = "\n".join(
        [
            "from headrace_core import Examples, Importer, Pipeline, Schema, ir",
            "from headrace_transform import Transform",
            "e = Importer(source_uri='/e', artifact_type=Examples).with_id('e')",
            "s = Importer(source_uri='/s', artifact_type=Schema).with_id('s')",
            "t = Transform(e.outputs['result'], s.outputs['result'], module_file='m.py')",
            "ir.compile(Pipeline('p', '/tmp/p', [e, s, t]))",
        ]
    )
    assert imported_heavy_modules(code=code) == []
