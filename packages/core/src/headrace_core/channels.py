"""Channels connect a producer's output to consumers; predicates on them guard nodes.

``producer.outputs['examples']`` is an :class:`OutputChannel`. A bare ``Channel(type=Model)``
has no producer: only a :class:`~headrace_core.dsl.Resolver` accepts it, meaning every artifact
of that type recorded for the pipeline.

``channel.future()[0].custom_property('blessed') == 1`` builds a :class:`Predicate`, the form
TFX's ``Cond`` takes. ``channel.future()[0].value`` itself is an :class:`ArtifactValue`: given
as a component parameter, it is that artifact's value, read when the node launches (TFX's
placeholder for a ``range_config`` made by an upstream component).
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from headrace_core.artifacts import Artifact

if TYPE_CHECKING:
    from headrace_core.component import BaseNode

__all__ = ["ArtifactValue", "Channel", "OutputChannel", "Predicate"]

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class Channel:
    """A typed stream of artifacts.

    ``Channel(type=Model)`` is every artifact of the type (for a Resolver);
    ``Channel(type=Examples, producer_component_id="CsvExampleGen", output_key="examples")``
    is that node's output named by its id, as TFX writes it: the pipeline binds it to the
    node's output channel.
    """

    def __init__(
        self,
        type: type[Artifact],  # noqa: A002 - TFX's keyword
        producer_component_id: str | None = None,
        output_key: str | None = None,
    ) -> None:
        if not (isinstance(type, builtins.type) and issubclass(type, Artifact)):
            raise TypeError(f"Channel(type=...) needs an Artifact subclass, got {type!r}")
        if (producer_component_id is None) != (output_key is None) or not all(
            v is None or (isinstance(v, str) and v) for v in (producer_component_id, output_key)
        ):
            raise TypeError(
                "Channel: producer_component_id and output_key name a node's output together "
                f"(both non-empty strings), got {producer_component_id!r} and {output_key!r}"
            )
        self.type = type
        self._reference = (producer_component_id, output_key)

    @property
    def type_name(self) -> str:
        return self.type.TYPE_NAME

    @property
    def producer(self) -> BaseNode | None:
        return None

    @property
    def producer_component_id(self) -> str | None:
        return self._reference[0]

    @property
    def output_key(self) -> str | None:
        return self._reference[1]

    def future(self) -> _ChannelFuture:
        return _ChannelFuture(self)

    def __repr__(self) -> str:
        producer, key = self._reference
        named = f", producer_component_id={producer!r}, output_key={key!r}" if producer else ""
        return f"Channel(type={self.type.__name__}{named})"


class OutputChannel(Channel):
    """The output ``output_key`` of node ``producer``."""

    def __init__(self, type: type[Artifact], producer: BaseNode, output_key: str) -> None:  # noqa: A002
        super().__init__(type)
        self._producer = producer
        self._output_key = output_key

    @property
    def producer(self) -> BaseNode:
        return self._producer

    @property
    def producer_component_id(self) -> str:
        return self._producer.id

    @property
    def output_key(self) -> str:
        return self._output_key

    def __repr__(self) -> str:
        where = f"{self.producer_component_id}.outputs[{self._output_key!r}]"
        return f"OutputChannel({where}: {self.type.__name__})"


class _ChannelFuture:
    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    def __getitem__(self, index: int) -> _ArtifactFuture:
        if not isinstance(index, int):
            raise TypeError("index a channel future with an int, e.g. channel.future()[0]")
        return _ArtifactFuture(self._channel, index)


class _ArtifactFuture:
    def __init__(self, channel: Channel, index: int) -> None:
        self._channel = channel
        self._index = index

    def custom_property(self, name: str) -> ArtifactValue:
        return ArtifactValue(self._channel, self._index, "custom_property", name)

    def property(self, name: str) -> ArtifactValue:
        declared = self._channel.type.PROPERTIES
        if name not in declared:
            raise AttributeError(
                f"artifact type {self._channel.type_name!r} has no property {name!r}; "
                "use custom_property() for custom properties"
            )
        return ArtifactValue(self._channel, self._index, "property", name)

    @builtins.property  # the method above shadows the builtin in this class body
    def value(self) -> ArtifactValue:
        return ArtifactValue(self._channel, self._index, "value", "value")

    @builtins.property
    def uri(self) -> ArtifactValue:
        return ArtifactValue(self._channel, self._index, "uri", "uri")


class ArtifactValue:
    """A field of artifact ``index`` of a channel (``value``, ``uri``, a property or a custom
    property), not known until the producer has run. Compared, it builds a :class:`Predicate`;
    passed as a component parameter, it is read at launch and the producer runs first."""

    __hash__ = None  # type: ignore[assignment]  # comparisons build predicates, not booleans

    def __init__(self, channel: Channel, index: int, field: str, name: str) -> None:
        self._channel = channel
        self._index = index
        self._field = field
        self._name = name

    @builtins.property
    def channel(self) -> Channel:
        return self._channel

    def to_ir(self) -> dict[str, Any]:
        """What the IR records: the producer's output, the artifact's index and the field."""
        return {
            "producer": self._channel.producer_component_id,
            "output": self._channel.output_key,
            "index": self._index,
            "field": self._field,
            "name": self._name,
        }

    def describe(self) -> str:
        return (
            f"{self._channel.producer_component_id}.outputs[{self._channel.output_key!r}]"
            f"[{self._index}].{self._field}"
            + (f"({self._name!r})" if self._field in ("property", "custom_property") else "")
        )

    def __repr__(self) -> str:
        return f"ArtifactValue({self.describe()})"

    def _compare(self, op: str, other: Any) -> Predicate:
        return Predicate(self._channel, self._index, self._field, self._name, op, other)

    def __eq__(self, other: object) -> Predicate:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: object) -> Predicate:  # type: ignore[override]
        return self._compare("!=", other)

    def __lt__(self, other: Any) -> Predicate:
        return self._compare("<", other)

    def __le__(self, other: Any) -> Predicate:
        return self._compare("<=", other)

    def __gt__(self, other: Any) -> Predicate:
        return self._compare(">", other)

    def __ge__(self, other: Any) -> Predicate:
        return self._compare(">=", other)


class Predicate:
    """``<field> <op> <value>`` on artifact ``index`` of ``channel``; built by comparisons."""

    def __init__(
        self, channel: Channel, index: int, field: str, name: str, op: str, value: Any
    ) -> None:
        if op not in _COMPARISONS:
            raise ValueError(f"unsupported comparison {op!r}; use one of {', '.join(_COMPARISONS)}")
        if not isinstance(value, (int, float, str, bool)):
            raise TypeError(
                f"a condition compares with an int, float, str or bool, got {type(value).__name__}"
            )
        self.channel = channel
        self.index = index
        self.field = field
        self.name = name
        self.op = op
        self.value = value

    def evaluate(self, actual: Any) -> bool:
        """Apply the comparison to the value read from the artifact (None when absent)."""
        if actual is None:
            return self.op == "!="
        expected = self.value
        if isinstance(expected, bool):
            expected = int(expected)
        if isinstance(actual, bool):
            actual = int(actual)
        try:
            if self.op == "==":
                return bool(actual == expected)
            if self.op == "!=":
                return bool(actual != expected)
            if self.op == "<":
                return bool(actual < expected)
            if self.op == "<=":
                return bool(actual <= expected)
            if self.op == ">":
                return bool(actual > expected)
            return bool(actual >= expected)
        except TypeError:
            return False

    def describe(self) -> str:
        producer = self.channel.producer_component_id or self.channel.type_name
        key = self.channel.output_key or "?"
        target = f"{producer}.outputs[{key!r}][{self.index}].{self.field}({self.name!r})"
        return f"{target} {self.op} {self.value!r}"

    def __bool__(self) -> bool:
        raise TypeError(
            "a channel condition has no truth value at pipeline definition time; "
            "pass it to Cond(...)"
        )

    def __repr__(self) -> str:
        return f"Predicate({self.describe()})"


# Conditions in force while nodes are constructed (``with Cond(...):`` blocks nest).
_condition_stack = threading.local()


def current_conditions() -> tuple[Predicate, ...]:
    return tuple(getattr(_condition_stack, "items", ()))


@contextmanager
def pushed_condition(predicate: Predicate) -> Iterator[None]:
    items: list[Predicate] = getattr(_condition_stack, "items", [])
    _condition_stack.items = items
    items.append(predicate)
    try:
        yield
    finally:
        items.pop()
