"""The component's contract, without running it (no TFDV, no Beam)."""

from __future__ import annotations

import pytest

from headrace_core import Examples, Importer, InvalidComponentArgumentError, Pipeline, Schema
from headrace_core.ir import compile as compile_ir
from headrace_core.testing import check_distribution, imported_heavy_modules
from headrace_statisticsgen import StatisticsGen


def _examples() -> Importer:
    return Importer(
        source_uri="/data/examples",
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]', "span": 0, "version": 0},
    ).with_id("examples")


def test_distribution_conforms() -> None:
    checked = check_distribution("headrace-statisticsgen")
    assert checked == ["StatisticsGen"]


def test_viewer_is_registered(plugin_manager) -> None:
    spec = plugin_manager.viewers.get("ExampleStatistics")
    assert spec.viewer == "headrace_statisticsgen.viewer:summarize"
    entry = plugin_manager.viewers.entry("ExampleStatistics")
    assert entry.provenance.distribution == "headrace-statisticsgen"


def test_viewer_and_component_import_nothing_heavy() -> None:
    heavy = imported_heavy_modules(["headrace_statisticsgen", "headrace_statisticsgen.viewer"])
    assert heavy == []
    # TFDV is not in HEAVY_MODULES; check it by name as well.
    out = imported_heavy_modules(
        ["headrace_statisticsgen.viewer"],
        code="assert 'tensorflow_data_validation' not in sys.modules",
    )
    assert out == []


def test_parameters_reach_the_ir() -> None:
    examples = _examples()
    stats = StatisticsGen(
        examples=examples.outputs["result"],
        stats_options={"num_top_values": 5, "sample_rate": 0.5},
        exclude_splits=["eval"],
    )
    document = compile_ir(Pipeline("p", "/tmp/p", [examples, stats]))
    node = next(n for n in document["nodes"] if n["id"] == "StatisticsGen")
    assert node["parameters"] == {
        "exclude_splits": ["eval"],
        "stats_options": {"num_top_values": 5, "sample_rate": 0.5},
    }
    assert node["executor"] == "headrace_statisticsgen.executor:Executor"
    assert stats.outputs["statistics"].type_name == "ExampleStatistics"


def test_unknown_stats_option_names_the_closest() -> None:
    with pytest.raises(InvalidComponentArgumentError, match="did you mean 'num_top_values'"):
        StatisticsGen(examples=_examples().outputs["result"], stats_options={"num_top_value": 5})


def test_stats_options_object_is_stored_as_json() -> None:
    class FakeStatsOptions:
        def to_json(self) -> str:
            return '{"TYPE_NAME": "StatsOptions", "num_top_values": 7}'

    stats = StatisticsGen(examples=_examples().outputs["result"], stats_options=FakeStatsOptions())
    assert stats.exec_properties["stats_options"]["num_top_values"] == 7


def test_schema_twice_is_refused() -> None:
    schema = Importer(source_uri="/data/schema", artifact_type=Schema).with_id("schema")
    with pytest.raises(InvalidComponentArgumentError, match="both as the schema input"):
        StatisticsGen(
            examples=_examples().outputs["result"],
            schema=schema.outputs["result"],
            stats_options={"schema": {"feature": [{"name": "a", "type": "INT"}]}},
        )


@pytest.mark.parametrize("bad", ["eval", [1, 2]])
def test_exclude_splits_must_be_names(bad: object) -> None:
    with pytest.raises(InvalidComponentArgumentError, match="exclude_splits"):
        StatisticsGen(examples=_examples().outputs["result"], exclude_splits=bad)  # type: ignore[arg-type]


def test_examples_are_required() -> None:
    with pytest.raises(InvalidComponentArgumentError, match="missing required input 'examples'"):
        StatisticsGen()
