"""The pipeline DSL: Pipeline validation and order, Resolver, Importer, Cond."""

from __future__ import annotations

import re

import pytest
from google.protobuf import descriptor_pb2
from hrcore_components import (
    CountSplits,
    Evaluator,
    ExampleGen,
    Pusher,
    SchemaGen,
    StatisticsGen,
    Trainer,
)

from headrace_core import (
    Channel,
    Cond,
    Examples,
    ExampleStatistics,
    Importer,
    InvalidComponentArgumentError,
    InvalidPipelineError,
    LatestArtifactStrategy,
    LatestBlessedModelStrategy,
    Model,
    ModelBlessing,
    OutputChannel,
    Pipeline,
    Predicate,
    Resolver,
    Schema,
    SpanRangeStrategy,
)
from headrace_core.channels import current_conditions
from headrace_core.dsl import _config_to_json


def _pipeline(*nodes: object, name: str = "test-pipeline") -> Pipeline:
    return Pipeline(pipeline_name=name, pipeline_root="/tmp/root", components=list(nodes))


def _chain() -> tuple[ExampleGen, StatisticsGen, SchemaGen]:
    gen = ExampleGen(input_base="/data")
    stats = StatisticsGen(examples=gen.outputs["examples"])
    schema = SchemaGen(statistics=stats.outputs["statistics"])
    return gen, stats, schema


# Pipeline -----------------------------------------------------------------------------------


def test_pipeline_attributes() -> None:
    gen, stats, schema = _chain()
    pipeline = Pipeline(
        pipeline_name="my_pipeline.v1-a",
        pipeline_root="/root",
        components=[schema, stats, gen],
        enable_cache=False,
        metadata_connection_config="sqlite:///m.db",
        beam_pipeline_args=("--runner=DirectRunner",),
    )
    assert pipeline.components == [gen, stats, schema]
    assert pipeline.nodes_by_id == {"ExampleGen": gen, "StatisticsGen": stats, "SchemaGen": schema}
    assert pipeline.enable_cache is False
    assert pipeline.beam_pipeline_args == ["--runner=DirectRunner"]
    assert repr(pipeline) == "<Pipeline 'my_pipeline.v1-a': 3 nodes>"


def test_cycle_lists_its_nodes() -> None:
    gen, stats, schema = _chain()
    gen.add_upstream_node(schema)
    with pytest.raises(InvalidPipelineError) as info:
        _pipeline(gen, stats, schema)
    assert str(info.value) == (
        "pipeline 'test-pipeline': cycle: ExampleGen -> StatisticsGen -> SchemaGen -> ExampleGen"
    )


def test_cycle_is_found_beyond_nodes_downstream_of_it() -> None:
    gen, stats, schema = _chain()
    trainer = Trainer(examples=gen.outputs["examples"], train_steps=1)
    schema.add_upstream_node(trainer)
    trainer.add_upstream_node(schema)
    # StatisticsGen and ExampleGen are fine; SchemaGen <-> Trainer is the cycle.
    with pytest.raises(InvalidPipelineError) as info:
        _pipeline(gen, stats, schema, trainer)
    message = str(info.value)
    cycle = message.split("cycle: ")[1].split(" -> ")
    assert cycle[0] == cycle[-1]
    assert sorted(set(cycle)) == ["SchemaGen", "Trainer"]


def test_self_dependency_is_a_cycle() -> None:
    gen = ExampleGen(input_base="/d")
    gen.add_upstream_node(gen)
    with pytest.raises(InvalidPipelineError, match="cycle: ExampleGen -> ExampleGen"):
        _pipeline(gen)


def test_duplicate_node_ids() -> None:
    first = ExampleGen(input_base="/a")
    second = ExampleGen(input_base="/b")
    with pytest.raises(InvalidPipelineError) as info:
        _pipeline(first, second)
    assert str(info.value) == (
        "pipeline 'test-pipeline': duplicate node id 'ExampleGen' (ExampleGen and "
        "ExampleGen); give one of them .with_id('...')"
    )
    second.with_id("ExampleGen2")
    assert len(_pipeline(first, second).components) == 2


def test_node_listed_twice() -> None:
    gen = ExampleGen(input_base="/a")
    with pytest.raises(InvalidPipelineError, match="node 'ExampleGen' is listed twice"):
        _pipeline(gen, gen)


def test_input_from_a_component_not_in_the_pipeline() -> None:
    _, stats, _ = _chain()
    with pytest.raises(InvalidPipelineError) as info:
        _pipeline(stats)
    assert str(info.value) == (
        "pipeline 'test-pipeline': node 'StatisticsGen' input 'examples' reads "
        "ExampleGen.outputs['examples'], but node 'ExampleGen' is not in the pipeline's "
        "components; add it to the list"
    )


def test_same_id_but_another_node_is_not_the_producer() -> None:
    _, stats, _ = _chain()
    impostor = ExampleGen(input_base="/other")
    with pytest.raises(InvalidPipelineError, match="node 'ExampleGen' is not in the pipeline"):
        _pipeline(impostor, stats)


def test_explicit_upstream_not_in_the_pipeline() -> None:
    gen = ExampleGen(input_base="/a")
    other = ExampleGen(input_base="/b").with_id("other")
    gen.add_upstream_node(other)
    with pytest.raises(
        InvalidPipelineError, match="node 'ExampleGen' depends on 'other', which is not in"
    ):
        _pipeline(gen)


def test_condition_on_a_component_not_in_the_pipeline() -> None:
    gen = ExampleGen(input_base="/a")
    trainer = Trainer(examples=gen.outputs["examples"], train_steps=1)
    evaluator = Evaluator(model=trainer.outputs["model"])
    with Cond(evaluator.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        pusher = Pusher(model=trainer.outputs["model"], push_destination={})
    with pytest.raises(InvalidPipelineError, match="node 'Pusher' condition reads Evaluator"):
        _pipeline(gen, trainer, pusher)


def test_type_mismatch_between_producer_and_channel() -> None:
    gen = ExampleGen(input_base="/a")
    # A channel that claims a type its producer does not make under that key.
    forged = OutputChannel(ExampleStatistics, gen, "examples")
    schema = SchemaGen(statistics=forged)
    with pytest.raises(InvalidPipelineError) as info:
        _pipeline(gen, schema)
    assert str(info.value) == (
        "pipeline 'test-pipeline': node 'SchemaGen' input 'statistics' reads "
        "ExampleGen.outputs['examples'] as ExampleStatistics, which that node does not produce"
    )


def test_type_mismatch_with_the_consumers_spec() -> None:
    gen, stats, schema = _chain()
    schema.inputs["statistics"] = gen.outputs["examples"]  # changed after construction
    with pytest.raises(InvalidPipelineError) as info:
        _pipeline(gen, stats, schema)
    assert str(info.value) == (
        "pipeline 'test-pipeline': node 'SchemaGen' input 'statistics' receives Examples "
        "but expects ExampleStatistics"
    )


def test_unattached_channel_outside_a_resolver() -> None:
    gen = ExampleGen(input_base="/a")
    trainer = Trainer(examples=gen.outputs["examples"], train_steps=1)
    trainer.inputs["base_model"] = Channel(type=Model)
    with pytest.raises(
        InvalidPipelineError,
        match="node 'Trainer' input 'base_model' has a channel with no producer",
    ):
        _pipeline(gen, trainer)


def test_no_components() -> None:
    with pytest.raises(InvalidPipelineError, match=r"^pipeline 'empty': no components$"):
        _pipeline(name="empty")


def test_non_node_component() -> None:
    with pytest.raises(InvalidPipelineError, match="components must be components"):
        _pipeline("ExampleGen")


@pytest.mark.parametrize("name", ["", "has space", "-leading", "a/b", "x" * 129, None, 3])
def test_bad_pipeline_name(name: object) -> None:
    with pytest.raises(InvalidPipelineError, match=r"invalid pipeline_name"):
        _pipeline(ExampleGen(input_base="/a"), name=name)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pipeline_root": ""}, "pipeline_root must be a non-empty string"),
        ({"enable_cache": "yes"}, "enable_cache must be True or False"),
        ({"metadata_connection_config": {"sqlite": "x"}}, "metadata_connection_config is a URL"),
        ({"beam_pipeline_args": ["--a", 1]}, "beam_pipeline_args must be strings"),
    ],
)
def test_bad_pipeline_options(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "pipeline_name": "p",
        "pipeline_root": "/r",
        "components": [ExampleGen(input_base="/a")],
        **kwargs,
    }
    with pytest.raises(InvalidPipelineError, match=f"pipeline 'p': {message}"):
        Pipeline(**arguments)  # type: ignore[arg-type]


def test_topological_order_respects_listed_order_for_ties() -> None:
    gen_a = ExampleGen(input_base="/a").with_id("gen_a")
    gen_b = ExampleGen(input_base="/b").with_id("gen_b")
    stats_a = StatisticsGen(examples=gen_a.outputs["examples"]).with_id("stats_a")
    stats_b = StatisticsGen(examples=gen_b.outputs["examples"]).with_id("stats_b")
    count_a = CountSplits(examples=gen_a.outputs["examples"]).with_id("count_a")
    trainer = Trainer(examples=gen_b.outputs["examples"], train_steps=1)
    trainer.add_upstream_node(stats_a)

    def order(nodes: list[object]) -> list[str]:
        return [n.id for n in _pipeline(*nodes).components]

    assert order([stats_b, trainer, count_a, stats_a, gen_b, gen_a]) == [
        "gen_b",
        "stats_b",
        "gen_a",
        "count_a",
        "stats_a",
        "Trainer",
    ]
    assert order([gen_a, gen_b, stats_a, stats_b, count_a, trainer]) == [
        "gen_a",
        "gen_b",
        "stats_a",
        "stats_b",
        "count_a",
        "Trainer",
    ]
    # Deterministic: the same list gives the same order every time.
    nodes = [trainer, stats_a, count_a, gen_a, stats_b, gen_b]
    first = order(nodes)
    assert all(order(nodes) == first for _ in range(5))
    for earlier, later in [("gen_a", "stats_a"), ("stats_a", "Trainer"), ("gen_b", "Trainer")]:
        assert first.index(earlier) < first.index(later)


# Resolver ------------------------------------------------------------------------------------


def test_resolver_outputs_mirror_its_channels() -> None:
    gen = ExampleGen(input_base="/a")
    resolver = Resolver(
        strategy_class=LatestArtifactStrategy,
        examples=gen.outputs["examples"],
        model=Channel(type=Model),
    )
    assert resolver.id == "Resolver"
    assert resolver.KIND == "resolver"
    assert resolver.config == {}
    assert {k: c.type for k, c in resolver.outputs.items()} == {
        "examples": Examples,
        "model": Model,
    }
    assert resolver.outputs["model"].producer is resolver
    assert resolver.upstream_nodes == [gen]
    trainer = Trainer(
        examples=resolver.outputs["examples"],
        base_model=resolver.outputs["model"],
        train_steps=1,
    )
    assert [n.id for n in _pipeline(trainer, resolver, gen).components] == [
        "ExampleGen",
        "Resolver",
        "Trainer",
    ]


def test_resolver_strategy_by_name() -> None:
    resolver = Resolver(strategy_class="latest_artifact", model=Channel(type=Model))
    assert resolver.strategy_class is LatestArtifactStrategy
    with pytest.raises(InvalidComponentArgumentError, match="unknown strategy 'newest'"):
        Resolver(strategy_class="newest", model=Channel(type=Model))


def test_resolver_rejects_unregistered_strategies_and_non_channels() -> None:
    class Custom(LatestArtifactStrategy):
        NAME = "custom"

    with pytest.raises(InvalidComponentArgumentError, match="Custom is not a registered"):
        Resolver(strategy_class=Custom, model=Channel(type=Model))
    with pytest.raises(InvalidComponentArgumentError, match="strategy_class must be one of"):
        Resolver(strategy_class=int, model=Channel(type=Model))  # type: ignore[arg-type]
    with pytest.raises(InvalidComponentArgumentError, match="at least one channel"):
        Resolver()
    with pytest.raises(InvalidComponentArgumentError, match="'model' must be a channel, got str"):
        Resolver(model="/models/latest")  # type: ignore[arg-type]


def test_latest_artifact_strategy_takes_no_config() -> None:
    with pytest.raises(
        InvalidComponentArgumentError, match=re.escape("takes no config, got keys ['n']")
    ):
        Resolver(strategy_class=LatestArtifactStrategy, config={"n": 1}, m=Channel(type=Model))


def test_latest_blessed_model_strategy() -> None:
    resolver = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=Model),
        blessing=Channel(type=ModelBlessing),
    )
    assert set(resolver.outputs) == {"model", "blessing"}
    with pytest.raises(
        InvalidComponentArgumentError,
        match="needs exactly one channel of ModelBlessing, got 0",
    ):
        Resolver(strategy_class=LatestBlessedModelStrategy, model=Channel(type=Model))
    with pytest.raises(
        InvalidComponentArgumentError, match="needs exactly one channel of Model, got 2"
    ):
        Resolver(
            strategy_class=LatestBlessedModelStrategy,
            model=Channel(type=Model),
            other=Channel(type=Model),
            blessing=Channel(type=ModelBlessing),
        )


@pytest.mark.parametrize(
    "config",
    [
        {"range_config": {"static_range": {"start_span_number": 1, "end_span_number": 3}}},
        {"range_config": {"static_range": {"start_span_number": 2, "end_span_number": 2}}},
        {"range_config": {"rolling_range": {"num_spans": 2}}},
        {"range_config": {"rolling_range": {"start_span_number": 4, "num_spans": 1}}},
    ],
)
def test_span_range_strategy_accepts_tfx_range_configs(config: dict[str, object]) -> None:
    resolver = Resolver(
        strategy_class=SpanRangeStrategy, config=config, examples=Channel(type=Examples)
    )
    assert resolver.config == config


def test_messages_in_a_resolver_config_become_json() -> None:
    field = descriptor_pb2.EnumValueDescriptorProto(name="RED", number=2)
    assert _config_to_json({"a": [field, {"b": (field,)}], "c": 1}) == {
        "a": [{"name": "RED", "number": 2}, {"b": [{"name": "RED", "number": 2}]}],
        "c": 1,
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "takes config=\\{'range_config': ...\\}"),
        ({"range_config": {}, "extra": 1}, "takes config"),
        ({"range_config": {}}, "exactly one of static_range, rolling_range"),
        (
            {"range_config": {"static_range": {}, "rolling_range": {}}},
            "exactly one of static_range, rolling_range",
        ),
        ({"range_config": {"weekly_range": {}}}, "range_config.weekly_range is not a valid"),
        (
            {"range_config": {"rolling_range": {"num_spans": 1, "end_span_number": 2}}},
            "range_config.rolling_range is not a valid",
        ),
        (
            {"range_config": {"static_range": {"start_span_number": 1}}},
            "static_range needs start_span_number and end_span_number",
        ),
        (
            {"range_config": {"static_range": {"start_span_number": 3, "end_span_number": 1}}},
            "static_range starts after it ends",
        ),
        (
            {"range_config": {"rolling_range": {"num_spans": -1}}},
            "rolling_range.num_spans must be a non-negative int, got -1",
        ),
        (
            {"range_config": {"rolling_range": {"num_spans": True}}},
            "must be a non-negative int, got True",
        ),
    ],
)
def test_span_range_config_validation(config: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidComponentArgumentError, match=message):
        Resolver(strategy_class=SpanRangeStrategy, config=config, examples=Channel(type=Examples))


def test_span_range_strategy_resolves_only_examples() -> None:
    with pytest.raises(InvalidComponentArgumentError, match="channel 'model' carries Model"):
        Resolver(
            strategy_class=SpanRangeStrategy,
            config={"range_config": {"rolling_range": {"num_spans": 1}}},
            model=Channel(type=Model),
        )


# Importer -------------------------------------------------------------------------------------


def test_importer() -> None:
    importer = Importer(
        source_uri="gs://bucket/examples",
        artifact_type=Examples,
        reimport=True,
        properties={"span": 3, "split_names": '["train"]'},
        custom_properties={"source": "bq"},
    )
    assert importer.id == "Importer"
    assert importer.KIND == "importer"
    assert list(importer.outputs) == ["result"]
    result = importer.outputs["result"]
    assert (result.type, result.producer, result.output_key) == (Examples, importer, "result")
    assert importer.properties == {"span": 3, "split_names": '["train"]'}
    assert importer.custom_properties == {"source": "bq"}
    assert importer.reimport is True
    assert importer.inputs == {}
    trainer = Trainer(examples=result, train_steps=1)
    assert trainer.upstream_nodes == [importer]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"properties": {"owner": "me"}},
            "Importer: artifact type 'Examples' has no property 'owner'",
        ),
        (
            {"properties": {"span": "3"}},
            "Importer: property 'span' of artifact type 'Examples' is INT",
        ),
        ({"custom_properties": {"tags": ["a"]}}, "Importer: custom property 'tags' must be"),
        ({"source_uri": ""}, "Importer: source_uri must be a non-empty string"),
        ({"artifact_type": str}, "Importer: artifact_type must be an Artifact subclass"),
        ({"reimport": "no"}, "Importer: reimport must be True or False"),
    ],
)
def test_importer_validation(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"source_uri": "/data", "artifact_type": Examples, **kwargs}
    with pytest.raises(InvalidComponentArgumentError, match=re.escape(message)):
        Importer(**arguments)  # type: ignore[arg-type]


# Cond ------------------------------------------------------------------------------------------


def test_cond_attaches_its_predicate_to_nodes_built_inside() -> None:
    gen = ExampleGen(input_base="/a")
    trainer = Trainer(examples=gen.outputs["examples"], train_steps=1)
    evaluator = Evaluator(model=trainer.outputs["model"])
    blessed = evaluator.outputs["blessing"].future()[0].custom_property("blessed") == 1
    assert isinstance(blessed, Predicate)
    assert (blessed.index, blessed.field, blessed.name, blessed.op, blessed.value) == (
        0,
        "custom_property",
        "blessed",
        "==",
        1,
    )
    assert blessed.describe() == "Evaluator.outputs['blessing'][0].custom_property('blessed') == 1"
    with Cond(blessed):
        pusher = Pusher(model=trainer.outputs["model"], push_destination={})
        assert current_conditions() == (blessed,)
    after = Pusher(model=trainer.outputs["model"], push_destination={}).with_id("after")
    assert current_conditions() == ()
    assert pusher.conditions == (blessed,)
    assert after.conditions == ()
    # The condition's producer is upstream even without a data dependency.
    assert pusher.upstream_nodes == [trainer, evaluator]
    order = [n.id for n in _pipeline(pusher, after, evaluator, trainer, gen).components]
    assert order.index("Evaluator") < order.index("Pusher")


def test_nested_cond_combines_predicates() -> None:
    gen = ExampleGen(input_base="/a")
    count = CountSplits(examples=gen.outputs["examples"])
    trainer = Trainer(examples=gen.outputs["examples"], train_steps=1)
    evaluator = Evaluator(model=trainer.outputs["model"])
    outer = evaluator.outputs["blessing"].future()[0].custom_property("blessed") == 1
    inner = count.outputs["output"].future()[0].value >= 2
    with Cond(outer):
        first = Pusher(model=trainer.outputs["model"], push_destination={}).with_id("first")
        with Cond(inner):
            both = Pusher(model=trainer.outputs["model"], push_destination={}).with_id("both")
        second = Pusher(model=trainer.outputs["model"], push_destination={}).with_id("second")
    assert first.conditions == (outer,)
    assert both.conditions == (outer, inner)
    assert second.conditions == (outer,)
    assert both.upstream_nodes == [trainer, evaluator, count]


def test_cond_stack_is_restored_after_an_exception() -> None:
    gen = ExampleGen(input_base="/a")
    predicate = gen.outputs["examples"].future()[0].property("span") > 0
    with pytest.raises(RuntimeError), Cond(predicate):
        raise RuntimeError("inside")
    assert current_conditions() == ()


def test_cond_needs_a_predicate() -> None:
    with pytest.raises(TypeError, match="Cond takes a comparison on a channel"):
        Cond(True)  # type: ignore[arg-type]


def test_predicate_has_no_truth_value() -> None:
    gen = ExampleGen(input_base="/a")
    predicate = gen.outputs["examples"].future()[0].uri == "/x"
    with pytest.raises(TypeError, match="no truth value"):
        bool(predicate)


def test_future_fields() -> None:
    channel = ExampleGen(input_base="/a").outputs["examples"]
    item = channel.future()[1]
    span = item.property("span") > 3
    assert (span.field, span.name, span.index, span.op) == ("property", "span", 1, ">")
    assert (item.value != "x").field == "value"
    assert (item.uri <= "z").name == "uri"
    with pytest.raises(AttributeError, match="'Examples' has no property 'blessed'"):
        item.property("blessed")
    with pytest.raises(TypeError, match="index a channel future with an int"):
        channel.future()["0"]  # type: ignore[index]
    with pytest.raises(TypeError, match="compares with an int, float, str or bool"):
        _ = item.custom_property("x") == [1]
    with pytest.raises(ValueError, match="unsupported comparison"):
        Predicate(channel, 0, "value", "value", "~=", 1)


@pytest.mark.parametrize(
    ("op", "expected", "actual", "result"),
    [
        ("==", 1, 1, True),
        ("==", 1, 0, False),
        ("==", True, 1, True),
        ("==", 1, True, True),
        ("!=", 1, 0, True),
        ("!=", 1, None, True),
        ("==", 1, None, False),
        ("<", 0.5, 0.4, True),
        ("<", 0.5, 0.5, False),
        ("<=", 0.5, 0.5, True),
        (">", 3, 4, True),
        (">", 3, 3, False),
        (">=", 3, 3, True),
        (">=", "b", "a", False),
        (">", 3, "text", False),
        ("==", "yes", "yes", True),
    ],
)
def test_predicate_evaluate(op: str, expected: object, actual: object, result: bool) -> None:
    channel = Channel(type=ModelBlessing)
    predicate = Predicate(channel, 0, "custom_property", "blessed", op, expected)
    assert predicate.evaluate(actual) is result


def test_schema_importer_feeds_a_component() -> None:
    gen = ExampleGen(input_base="/a")
    user_schema = Importer(source_uri="/schema", artifact_type=Schema)
    trainer = Trainer(
        examples=gen.outputs["examples"], schema=user_schema.outputs["result"], train_steps=2
    )
    pipeline = _pipeline(trainer, user_schema, gen)
    assert [n.id for n in pipeline.components] == ["Importer", "ExampleGen", "Trainer"]


def test_a_channel_names_an_output_by_its_nodes_id() -> None:
    """TFX's Channel(type=..., producer_component_id=..., output_key=...): bound when the
    pipeline is built, in any listing order, to the same IR as the producer's output."""
    from headrace_core import ir

    gen = ExampleGen(input_base="/a")
    named = Channel(type=Examples, producer_component_id="ExampleGen", output_key="examples")
    assert repr(named) == (
        "Channel(type=Examples, producer_component_id='ExampleGen', output_key='examples')"
    )
    trainer = Trainer(examples=named, train_steps=1)
    pipeline = _pipeline(trainer, gen)
    assert [n.id for n in pipeline.components] == ["ExampleGen", "Trainer"]
    assert trainer.inputs["examples"] is gen.outputs["examples"]
    direct = Trainer(examples=ExampleGen(input_base="/a").outputs["examples"], train_steps=1)
    assert ir.compile(pipeline) == ir.compile(_pipeline(direct.upstream_nodes[0], direct))


@pytest.mark.parametrize(
    ("producer", "key", "kind", "message"),
    [
        (
            "Nope",
            "examples",
            Examples,
            r"reads Nope.outputs\['examples'\], but the pipeline has no node 'Nope' "
            r"\(nodes: ExampleGen, Trainer\)",
        ),
        (
            "ExampleGen",
            "stats",
            Examples,
            r"but node 'ExampleGen' has no output 'stats' \(outputs: examples\)",
        ),
    ],
)
def test_a_named_output_that_does_not_exist(
    producer: str, key: str, kind: type, message: str
) -> None:
    gen = ExampleGen(input_base="/a")
    trainer = Trainer(
        examples=Channel(type=kind, producer_component_id=producer, output_key=key),
        train_steps=1,
    )
    with pytest.raises(InvalidPipelineError, match=message):
        _pipeline(gen, trainer)


def test_a_named_output_of_another_type_and_half_a_name() -> None:
    gen = ExampleGen(input_base="/a")
    stats = StatisticsGen(examples=gen.outputs["examples"])
    schema = SchemaGen(
        statistics=Channel(
            type=ExampleStatistics, producer_component_id="ExampleGen", output_key="examples"
        )
    )
    with pytest.raises(InvalidPipelineError, match="as ExampleStatistics, but it holds Examples"):
        _pipeline(gen, stats, schema)
    with pytest.raises(TypeError, match="producer_component_id and output_key name a node's"):
        Channel(type=Examples, producer_component_id="ExampleGen")
