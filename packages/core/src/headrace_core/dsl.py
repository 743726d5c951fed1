"""The pipeline DSL: ``Pipeline``, ``Resolver`` and its strategies, ``Importer`` and ``Cond``.

Everything here is validated when it is constructed; execution lives in the runner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from headrace_core.artifacts import Artifact, Examples, Model, ModelBlessing
from headrace_core.channels import Channel, OutputChannel, Predicate, pushed_condition
from headrace_core.component import BaseComponent, BaseNode
from headrace_core.errors import InvalidComponentArgumentError, InvalidPipelineError
from headrace_core.placeholders import PIPELINE_ROOT

__all__ = [
    "Cond",
    "Importer",
    "LatestArtifactStrategy",
    "LatestBlessedModelStrategy",
    "Pipeline",
    "Resolver",
    "ResolverStrategy",
    "SpanRangeStrategy",
]

_PIPELINE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


# Resolver strategies -----------------------------------------------------------------------


class ResolverStrategy:
    """How a :class:`Resolver` picks artifacts from the history recorded in ML Metadata."""

    #: The strategy's name in the IR.
    NAME: ClassVar[str] = ""

    @classmethod
    def check(cls, channels: Mapping[str, Channel], config: dict[str, Any], where: str) -> None:
        """Raise :class:`InvalidComponentArgumentError` if channels or config do not fit."""


class LatestArtifactStrategy(ResolverStrategy):
    """The most recently published artifact of each channel."""

    NAME = "latest_artifact"

    @classmethod
    def check(cls, channels: Mapping[str, Channel], config: dict[str, Any], where: str) -> None:
        if config:
            raise InvalidComponentArgumentError(
                f"{where}: {cls.__name__} takes no config, got keys {sorted(config)}"
            )


class LatestBlessedModelStrategy(ResolverStrategy):
    """The latest ``Model`` whose ``ModelBlessing`` says ``blessed == 1``."""

    NAME = "latest_blessed_model"

    @classmethod
    def check(cls, channels: Mapping[str, Channel], config: dict[str, Any], where: str) -> None:
        LatestArtifactStrategy.check(channels, config, where)
        for needed in (Model, ModelBlessing):
            found = [k for k, c in channels.items() if issubclass(c.type, needed)]
            if len(found) != 1:
                raise InvalidComponentArgumentError(
                    f"{where}: {cls.__name__} needs exactly one channel of {needed.TYPE_NAME}, "
                    f"got {len(found)}"
                )


class SpanRangeStrategy(ResolverStrategy):
    """``Examples`` whose span lies in a range: ``static_range`` or ``rolling_range``.

    Config: ``{"range_config": {"static_range": {"start_span_number": 1, "end_span_number": 3}}}``
    or ``{"range_config": {"rolling_range": {"num_spans": 2}}}`` (TFX's RangeConfig, as JSON or
    as a message).
    """

    NAME = "span_range"

    @classmethod
    def check(cls, channels: Mapping[str, Channel], config: dict[str, Any], where: str) -> None:
        for key, channel in channels.items():
            if not issubclass(channel.type, Examples):
                raise InvalidComponentArgumentError(
                    f"{where}: {cls.__name__} resolves Examples; channel {key!r} carries "
                    f"{channel.type_name}"
                )
        extra = set(config) - {"range_config"}
        if extra or "range_config" not in config:
            raise InvalidComponentArgumentError(
                f"{where}: {cls.__name__} takes config={{'range_config': ...}}"
            )
        rc = config["range_config"]
        if not isinstance(rc, Mapping) or len(rc) != 1:
            raise InvalidComponentArgumentError(
                f"{where}: range_config needs exactly one of static_range, rolling_range"
            )
        ((kind, body),) = rc.items()
        allowed = {
            "static_range": {"start_span_number", "end_span_number"},
            "rolling_range": {"start_span_number", "num_spans"},
        }.get(kind)
        if allowed is None or not isinstance(body, Mapping) or set(body) - allowed:
            raise InvalidComponentArgumentError(
                f"{where}: range_config.{kind} is not a valid range; use static_range "
                "{start_span_number, end_span_number} or rolling_range {start_span_number, "
                "num_spans}"
            )
        for k, v in body.items():
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                raise InvalidComponentArgumentError(
                    f"{where}: range_config.{kind}.{k} must be a non-negative int, got {v!r}"
                )
        if kind == "static_range" and set(body) != allowed:
            raise InvalidComponentArgumentError(
                f"{where}: static_range needs start_span_number and end_span_number"
            )
        if kind == "static_range" and body["start_span_number"] > body["end_span_number"]:
            raise InvalidComponentArgumentError(
                f"{where}: static_range starts after it ends ({dict(body)})"
            )


STRATEGIES: dict[str, type[ResolverStrategy]] = {
    s.NAME: s for s in (LatestArtifactStrategy, LatestBlessedModelStrategy, SpanRangeStrategy)
}


def _config_to_json(value: Any) -> Any:
    """Protobuf messages in a resolver config become their JSON form (TFX field names)."""
    if hasattr(value, "DESCRIPTOR") and hasattr(value, "SerializeToString"):
        from google.protobuf import json_format

        return json_format.MessageToDict(value, preserving_proto_field_name=True)
    if isinstance(value, Mapping):
        return {str(k): _config_to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_config_to_json(v) for v in value]
    return value


class Resolver(BaseNode):
    """Picks artifacts from earlier runs: ``Resolver(strategy_class=..., config=..., **channels)``.

    Outputs have the same keys and types as the channels it is given. A ``Channel(type=T)``
    without a producer means every artifact of type ``T`` recorded for the pipeline.
    """

    KIND = "resolver"

    def __init__(
        self,
        strategy_class: type[ResolverStrategy] | str = LatestArtifactStrategy,
        config: Mapping[str, Any] | None = None,
        **channels: Channel,
    ) -> None:
        super().__init__()
        where = "Resolver"
        if isinstance(strategy_class, str):
            found = STRATEGIES.get(strategy_class)
            if found is None:
                raise InvalidComponentArgumentError(
                    f"{where}: unknown strategy {strategy_class!r}; known: {', '.join(STRATEGIES)}"
                )
            strategy_class = found
        if not (isinstance(strategy_class, type) and issubclass(strategy_class, ResolverStrategy)):
            raise InvalidComponentArgumentError(
                f"{where}: strategy_class must be one of "
                + ", ".join(s.__name__ for s in STRATEGIES.values())
            )
        if STRATEGIES.get(strategy_class.NAME) is not strategy_class:
            raise InvalidComponentArgumentError(
                f"{where}: {strategy_class.__name__} is not a registered resolver strategy"
            )
        if not channels:
            raise InvalidComponentArgumentError(f"{where}: give at least one channel to resolve")
        for key, channel in channels.items():
            if not isinstance(channel, Channel):
                raise InvalidComponentArgumentError(
                    f"{where}: {key!r} must be a channel, got {type(channel).__name__}"
                )
        self.strategy_class = strategy_class
        self.config: dict[str, Any] = _config_to_json(dict(config or {}))
        strategy_class.check(channels, self.config, where)
        self.inputs = dict(channels)
        self.outputs = {k: OutputChannel(c.type, self, k) for k, c in channels.items()}

    @classmethod
    def default_id(cls) -> str:
        return "Resolver"


class Importer(BaseNode):
    """Registers an external URI as an artifact; output key ``result`` (as in TFX).

    With ``reimport=False`` an artifact already recorded with the same URI and properties is
    reused instead of a new one.
    """

    KIND = "importer"
    OUTPUT_KEY = "result"

    def __init__(
        self,
        source_uri: str,
        artifact_type: type[Artifact],
        reimport: bool = False,
        properties: Mapping[str, Any] | None = None,
        custom_properties: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        where = "Importer"
        if not isinstance(source_uri, str) or not source_uri:
            raise InvalidComponentArgumentError(f"{where}: source_uri must be a non-empty string")
        if not (isinstance(artifact_type, type) and issubclass(artifact_type, Artifact)):
            raise InvalidComponentArgumentError(
                f"{where}: artifact_type must be an Artifact subclass, got {artifact_type!r}"
            )
        if not isinstance(reimport, bool):
            raise InvalidComponentArgumentError(f"{where}: reimport must be True or False")
        # Building a throwaway artifact runs the same property checks as at run time.
        try:
            artifact_type(
                source_uri,
                properties=dict(properties or {}),
                custom_properties=dict(custom_properties or {}),
            )
        except (AttributeError, TypeError) as e:
            raise InvalidComponentArgumentError(f"{where}: {e}") from None
        self.source_uri = source_uri
        self.artifact_type = artifact_type
        self.reimport = reimport
        self.properties: dict[str, Any] = dict(sorted((properties or {}).items()))
        self.custom_properties: dict[str, Any] = dict(sorted((custom_properties or {}).items()))
        self.outputs = {self.OUTPUT_KEY: OutputChannel(artifact_type, self, self.OUTPUT_KEY)}

    @classmethod
    def default_id(cls) -> str:
        return "Importer"


# Conditions --------------------------------------------------------------------------------


class Cond:
    """Nodes created inside ``with Cond(predicate):`` run only when the predicate holds.

    A node whose condition is false is recorded as skipped, and so are its dependants.
    Nested blocks combine with AND.
    """

    def __init__(self, predicate: Predicate) -> None:
        if not isinstance(predicate, Predicate):
            raise TypeError(
                "Cond takes a comparison on a channel, e.g. "
                "Cond(evaluator.outputs['blessing'].future()[0].custom_property('blessed') == 1)"
            )
        self.predicate = predicate
        self._context: Any = None

    def __enter__(self) -> Cond:
        self._context = pushed_condition(self.predicate)
        self._context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)
        self._context = None


# Pipeline ----------------------------------------------------------------------------------


class Pipeline:
    """A validated DAG of nodes, kept in a deterministic topological order."""

    def __init__(
        self,
        pipeline_name: str,
        pipeline_root: str,
        components: Sequence[BaseNode],
        enable_cache: bool = True,
        metadata_connection_config: str | None = None,
        beam_pipeline_args: Sequence[str] | None = None,
    ) -> None:
        if not (isinstance(pipeline_name, str) and _PIPELINE_NAME.match(pipeline_name)):
            raise InvalidPipelineError(
                f"invalid pipeline_name {pipeline_name!r}: use letters, digits, '_', '-' and '.'"
            )
        where = f"pipeline {pipeline_name!r}"
        if not isinstance(pipeline_root, str) or not pipeline_root:
            raise InvalidPipelineError(f"{where}: pipeline_root must be a non-empty string")
        if PIPELINE_ROOT in pipeline_root:
            raise InvalidPipelineError(
                f"{where}: pipeline_root {pipeline_root!r} cannot be written against itself; "
                f"{PIPELINE_ROOT} is for paths under the root, in node parameters"
            )
        if not isinstance(enable_cache, bool):
            raise InvalidPipelineError(f"{where}: enable_cache must be True or False")
        if metadata_connection_config is not None and not isinstance(
            metadata_connection_config, str
        ):
            raise InvalidPipelineError(
                f"{where}: metadata_connection_config is a URL string such as "
                "'sqlite:///path/metadata.sqlite' or 'mysql://user@host:3306/db'"
            )
        from headrace_core.metadata import conceal

        # The IR, compiled DAGs and run files carry the URL without its password; this
        # process keeps the password for its own connections and its node processes.
        metadata_connection_config = conceal(metadata_connection_config)
        args = list(beam_pipeline_args or [])
        if not all(isinstance(a, str) for a in args):
            raise InvalidPipelineError(f"{where}: beam_pipeline_args must be strings")
        self.pipeline_name = pipeline_name
        self.pipeline_root = pipeline_root
        self.enable_cache = enable_cache
        self.metadata_connection_config = metadata_connection_config
        self.beam_pipeline_args = args
        self.components: list[BaseNode] = _validated_order(where, list(components))

    @property
    def nodes_by_id(self) -> dict[str, BaseNode]:
        return {n.id: n for n in self.components}

    def __repr__(self) -> str:
        return f"<Pipeline {self.pipeline_name!r}: {len(self.components)} nodes>"


def _validated_order(where: str, nodes: list[BaseNode]) -> list[BaseNode]:
    if not nodes:
        raise InvalidPipelineError(f"{where}: no components")
    by_id: dict[str, BaseNode] = {}
    for node in nodes:
        if not isinstance(node, BaseNode):
            raise InvalidPipelineError(
                f"{where}: components must be components, resolvers or importers, got "
                f"{type(node).__name__} {node!r:.60}"
            )
        other = by_id.get(node.id)
        if other is node:
            raise InvalidPipelineError(f"{where}: node {node.id!r} is listed twice")
        if other is not None:
            raise InvalidPipelineError(
                f"{where}: duplicate node id {node.id!r} ({type(other).__name__} and "
                f"{type(node).__name__}); give one of them .with_id('...')"
            )
        by_id[node.id] = node

    for node in nodes:
        _bind_references(where, by_id, node)
        for key, channel in node.inputs.items():
            _check_channel(where, by_id, node, f"input {key!r}", channel)
        for predicate in node.conditions:
            _check_channel(where, by_id, node, "condition", predicate.channel)
        for upstream in node.explicit_upstream_nodes:
            if by_id.get(upstream.id) is not upstream:
                raise InvalidPipelineError(
                    f"{where}: node {node.id!r} depends on {upstream.id!r}, which is not in "
                    "the pipeline's components"
                )
        if isinstance(node, BaseComponent):
            for key, channel in node.inputs.items():
                declared = node.spec.INPUTS.get(key)
                if declared is None or not issubclass(channel.type, declared.type):
                    raise InvalidPipelineError(
                        f"{where}: node {node.id!r} input {key!r} receives {channel.type_name}"
                        + (f" but expects {declared.type.TYPE_NAME}" if declared else "")
                    )
    return _topological(where, nodes)


def _bind_references(where: str, by_id: dict[str, BaseNode], node: BaseNode) -> None:
    """TFX's ``Channel(type=..., producer_component_id=..., output_key=...)``: an output named
    by its node's id, bound here to that node's output channel."""
    for key, channel in list(node.inputs.items()):
        producer_id = channel.producer_component_id
        if channel.producer is not None or producer_id is None:
            continue
        target = f"{producer_id}.outputs[{channel.output_key!r}]"
        producer = by_id.get(producer_id)
        if producer is None:
            raise InvalidPipelineError(
                f"{where}: node {node.id!r} input {key!r} reads {target}, but the pipeline has "
                f"no node {producer_id!r} (nodes: {', '.join(sorted(by_id))})"
            )
        output = producer.outputs.get(channel.output_key or "")
        if output is None:
            raise InvalidPipelineError(
                f"{where}: node {node.id!r} input {key!r} reads {target}, but node "
                f"{producer_id!r} has no output {channel.output_key!r} (outputs: "
                f"{', '.join(sorted(producer.outputs)) or 'none'})"
            )
        if not issubclass(output.type, channel.type):
            raise InvalidPipelineError(
                f"{where}: node {node.id!r} input {key!r} reads {target} as "
                f"{channel.type_name}, but it holds {output.type_name}"
            )
        node.inputs[key] = output


def _check_channel(
    where: str, by_id: dict[str, BaseNode], node: BaseNode, what: str, channel: Channel
) -> None:
    producer = channel.producer
    if producer is None:
        if node.KIND != "resolver":
            raise InvalidPipelineError(
                f"{where}: node {node.id!r} {what} has a channel with no producer; only "
                "resolvers accept those"
            )
        return
    if by_id.get(producer.id) is not producer:
        raise InvalidPipelineError(
            f"{where}: node {node.id!r} {what} reads {producer.id}.outputs"
            f"[{channel.output_key!r}], but node {producer.id!r} is not in the pipeline's "
            "components; add it to the list"
        )
    declared = producer.outputs.get(channel.output_key or "")
    if declared is None or not issubclass(declared.type, channel.type):
        raise InvalidPipelineError(
            f"{where}: node {node.id!r} {what} reads {producer.id}.outputs"
            f"[{channel.output_key!r}] as {channel.type_name}, which that node does not produce"
        )


def _topological(where: str, nodes: list[BaseNode]) -> list[BaseNode]:
    """Kahn's algorithm; ties keep the order the user listed, so the result is deterministic."""
    position = {id(n): i for i, n in enumerate(nodes)}
    upstream = {id(n): [u for u in n.upstream_nodes] for n in nodes}
    remaining = {id(n): len(upstream[id(n)]) for n in nodes}
    downstream: dict[int, list[BaseNode]] = {id(n): [] for n in nodes}
    for n in nodes:
        for u in upstream[id(n)]:
            downstream[id(u)].append(n)
    ready = sorted((n for n in nodes if remaining[id(n)] == 0), key=lambda n: position[id(n)])
    order: list[BaseNode] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for d in downstream[id(node)]:
            remaining[id(d)] -= 1
            if remaining[id(d)] == 0:
                ready.append(d)
                ready.sort(key=lambda n: position[id(n)])
    if len(order) != len(nodes):
        stuck = [n for n in nodes if remaining[id(n)] > 0]
        raise InvalidPipelineError(f"{where}: cycle: {' -> '.join(_find_cycle(stuck))}")
    return order


def _find_cycle(stuck: list[BaseNode]) -> list[str]:
    stuck_ids = {id(n) for n in stuck}
    path: list[BaseNode] = []
    node = stuck[0]
    while node not in path:
        path.append(node)
        node = next(u for u in node.upstream_nodes if id(u) in stuck_ids)
    cycle = [*path[path.index(node) :], node]
    return [n.id for n in reversed(cycle)]
