"""The components' contracts, without running them (no TFDV)."""

from __future__ import annotations

import pytest

from headrace_core import ExampleStatistics, Importer, InvalidComponentArgumentError, Pipeline
from headrace_core.ir import compile as compile_ir
from headrace_core.testing import check_distribution, imported_heavy_modules
from headrace_schemagen import ImportSchemaGen, SchemaGen


def _statistics() -> Importer:
    return Importer(
        source_uri="/data/statistics",
        artifact_type=ExampleStatistics,
        properties={"split_names": '["train", "eval"]', "span": 0},
    ).with_id("statistics")


def test_distribution_conforms() -> None:
    assert check_distribution("headrace-schemagen") == ["ImportSchemaGen", "SchemaGen"]


def test_schema_viewer_is_registered(plugin_manager) -> None:
    entry = plugin_manager.viewers.entry("Schema")
    assert entry.value.viewer == "headrace_schemagen.viewer:summarize"
    assert entry.provenance.distribution == "headrace-schemagen"


def test_viewer_driver_and_components_import_nothing_heavy() -> None:
    modules = ["headrace_schemagen", "headrace_schemagen.viewer", "headrace_schemagen.driver"]
    assert (
        imported_heavy_modules(
            modules, code="assert 'tensorflow_data_validation' not in sys.modules"
        )
        == []
    )


def test_schemagen_parameters_reach_the_ir() -> None:
    statistics = _statistics()
    node = SchemaGen(statistics=statistics.outputs["result"], exclude_splits=["eval"])
    document = compile_ir(Pipeline("p", "/tmp/p", [statistics, node]))
    compiled = next(n for n in document["nodes"] if n["id"] == "SchemaGen")
    assert compiled["parameters"] == {"exclude_splits": ["eval"], "infer_feature_shape": True}
    assert compiled["executor"] == "headrace_schemagen.executor:Executor"
    assert node.outputs["schema"].type_name == "Schema"


def test_import_schema_gen_in_the_ir() -> None:
    node = ImportSchemaGen(schema_file="/data/schema.pbtxt")
    document = compile_ir(Pipeline("p", "/tmp/p", [node]))
    (compiled,) = document["nodes"]
    assert compiled["parameters"] == {"schema_file": "/data/schema.pbtxt"}
    assert compiled["driver"] == "headrace_schemagen.driver:import_schema_driver"


def test_bad_arguments() -> None:
    with pytest.raises(InvalidComponentArgumentError, match="missing required input"):
        SchemaGen()
    with pytest.raises(InvalidComponentArgumentError, match="exclude_splits"):
        SchemaGen(statistics=_statistics().outputs["result"], exclude_splits="eval")  # type: ignore[arg-type]
    with pytest.raises(InvalidComponentArgumentError, match="infer_feature_shape"):
        SchemaGen(statistics=_statistics().outputs["result"], infer_feature_shape="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidComponentArgumentError, match="schema_file"):
        ImportSchemaGen()
