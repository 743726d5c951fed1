"""The component contract: a spec of typed parameters, inputs and outputs; nodes built on it.

A component class names its spec and its executor::

    class CsvExampleGenSpec(ComponentSpec):
        PARAMETERS = {"input_base": ExecutionParameter(type=str)}
        INPUTS = {}
        OUTPUTS = {"examples": ChannelParameter(type=Examples)}

    class CsvExampleGen(BaseComponent):
        SPEC_CLASS = CsvExampleGenSpec
        EXECUTOR_SPEC = "headrace_examplegen.executor:CsvExecutor"

Construction validates every argument against the spec, so a mistake is reported where the
pipeline is written, naming the component and the key.
"""

from __future__ import annotations

import builtins
import difflib
import json
import re
import types
import typing
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from headrace_core.artifacts import Artifact
from headrace_core.channels import (
    ArtifactValue,
    Channel,
    OutputChannel,
    Predicate,
    current_conditions,
)
from headrace_core.errors import ComponentDefinitionError, InvalidComponentArgumentError
from headrace_core.executor import object_ref

__all__ = [
    "BaseComponent",
    "BaseNode",
    "ChannelParameter",
    "ComponentSpec",
    "ExecutionParameter",
    "check_fields",
    "config_dict",
    "is_proto_class",
    "parameter_type_label",
]

_ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")
_REF_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_MISSING: Any = object()

N = TypeVar("N", bound="BaseNode")


def is_proto_class(tp: object) -> bool:
    """True for a protobuf message class; checked by shape so the core need not import protobuf."""
    return isinstance(tp, type) and hasattr(tp, "DESCRIPTOR") and hasattr(tp, "FromString")


def _is_proto(value: object) -> bool:
    return is_proto_class(type(value))


def check_fields(value: Mapping[str, Any], fields: Sequence[str], where: str) -> None:
    """Refuse a key of ``value`` that is not one of ``fields``, with a "did you mean"."""
    for key in value:
        if key not in fields:
            hint = difflib.get_close_matches(str(key), fields, n=1)
            raise InvalidComponentArgumentError(
                f"{where}: unknown field {key!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; fields: {', '.join(fields)}"
            )


def config_dict(value: Any, where: str, *, expected: str) -> dict[str, Any]:
    """A config parameter as a dict, given as TFX's protobuf message, its JSON string (empty:
    an empty config) or a dict of the same shape.

    Messages are converted with TFX's field names (``preserving_proto_field_name``), so a
    ``trainer_pb2.TrainArgs`` and ``{"num_steps": 100}`` give one IR without headrace
    depending on the tfx package. ``where`` names the parameter in errors ("Trainer:
    train_args") and ``expected`` says what it takes ("a dict such as {...} or a
    trainer_pb2.TrainArgs"); the caller checks the fields.
    """
    if _is_proto(value):
        from google.protobuf import json_format

        value = json_format.MessageToDict(value, preserving_proto_field_name=True)
    elif isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as e:
            raise InvalidComponentArgumentError(f"{where} is not valid JSON: {e}") from None
    if not isinstance(value, Mapping):
        raise InvalidComponentArgumentError(
            f"{where} takes {expected}, got {type(value).__name__} {value!r:.80}"
        )
    return dict(value)


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def parameter_type_label(tp: Any) -> str:
    """The IR's name for a parameter type: int, float, str, bool, dict, list or proto:<name>."""
    tp, _ = _strip_optional(tp)
    if is_proto_class(tp):
        return f"proto:{tp.DESCRIPTOR.full_name}"
    base = typing.get_origin(tp) or tp
    for candidate, label in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
        if base is candidate:
            return label
    if base in (dict, Mapping) or (isinstance(base, type) and issubclass(base, Mapping)):
        return "dict"
    if base in (list, tuple) or base is typing.Sequence:
        return "list"
    if tp is Any:
        return "json"
    raise ComponentDefinitionError(
        f"unsupported parameter type {tp!r}: use int, float, str, bool, dict, list or a "
        "protobuf message class"
    )


class ExecutionParameter:
    """A parameter of a component: a JSON-serializable value or a protobuf message."""

    def __init__(
        self,
        type: Any,  # noqa: A002 - TFX's keyword
        optional: bool = False,
        default: Any = _MISSING,
        description: str = "",
    ) -> None:
        inner, was_optional = _strip_optional(type)
        self.type = inner
        self.optional = optional or was_optional or default is not _MISSING
        self.default = default
        self.description = description
        self.label = parameter_type_label(inner)

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    @property
    def is_proto(self) -> bool:
        return self.label.startswith("proto:")

    def coerce(self, value: Any, where: str) -> Any:
        """Check ``value`` against the declared type and return its canonical form."""
        label = self.label
        if self.is_proto:
            if isinstance(value, self.type):
                return value
            if isinstance(value, (dict, str)):
                return _parse_proto(self.type, value, where)
            raise InvalidComponentArgumentError(
                f"{where} expects a {self.type.__name__} message (or its JSON as a dict), "
                f"got {type(value).__name__}"
            )
        ok: bool
        if label == "bool":
            ok = isinstance(value, bool)
        elif label == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif label == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif label == "str":
            ok = isinstance(value, str)
        elif label == "dict":
            ok = isinstance(value, Mapping)
            value = dict(value) if ok else value
        elif label == "list":
            ok = isinstance(value, (list, tuple))
            value = list(value) if ok else value
        else:
            ok = True
        if not ok:
            raise InvalidComponentArgumentError(
                f"{where} expects {label}, got {type(value).__name__} {value!r:.80}"
            )
        try:
            json.dumps(value, allow_nan=False, sort_keys=True)
        except (TypeError, ValueError) as e:
            raise InvalidComponentArgumentError(
                f"{where} must be JSON-serializable to enter the pipeline IR: {e}"
            ) from None
        return value

    def to_json(self, value: Any) -> Any:
        if self.is_proto:
            from google.protobuf import json_format

            return json_format.MessageToDict(value, preserving_proto_field_name=True)
        return value

    def __repr__(self) -> str:
        return f"ExecutionParameter(type={self.label}, optional={self.optional})"


def _parse_proto(cls: Any, value: dict[str, Any] | str, where: str) -> Any:
    from google.protobuf import json_format

    try:
        if isinstance(value, str):
            return json_format.Parse(value, cls())
        return json_format.ParseDict(value, cls())
    except json_format.ParseError as e:
        raise InvalidComponentArgumentError(
            f"{where}: not a valid {cls.DESCRIPTOR.full_name}: {e}"
        ) from None


class ChannelParameter:
    """An input or output of a component: a channel of artifacts of one type.

    ``in_cache_key=False`` declares an input that only makes the work faster and never
    changes the outputs (tf.Transform's analyzer cache): it is left out of the node's cache
    key, so feeding an earlier run's cache back in does not make every run a cache miss.
    """

    def __init__(
        self,
        type: type[Artifact],  # noqa: A002 - TFX's keyword
        optional: bool = False,
        allow_empty: bool = False,
        description: str = "",
        in_cache_key: bool = True,
    ) -> None:
        if not (isinstance(type, builtins.type) and issubclass(type, Artifact)):
            raise ComponentDefinitionError(
                f"ChannelParameter(type=...) needs an Artifact subclass, got {type!r}"
            )
        self.type = type
        self.optional = optional
        self.allow_empty = allow_empty
        self.description = description
        self.in_cache_key = in_cache_key

    def __repr__(self) -> str:
        return f"ChannelParameter(type={self.type.__name__}, optional={self.optional})"


class ComponentSpec:
    """Declares a component's ``PARAMETERS``, ``INPUTS`` and ``OUTPUTS``."""

    PARAMETERS: ClassVar[Mapping[str, ExecutionParameter]] = {}
    INPUTS: ClassVar[Mapping[str, ChannelParameter]] = {}
    OUTPUTS: ClassVar[Mapping[str, ChannelParameter]] = {}

    @classmethod
    def check(cls) -> None:
        """Raise :class:`ComponentDefinitionError` if the declaration is malformed."""
        seen: dict[str, str] = {}
        for section, entries, kind in (
            ("PARAMETERS", cls.PARAMETERS, ExecutionParameter),
            ("INPUTS", cls.INPUTS, ChannelParameter),
            ("OUTPUTS", cls.OUTPUTS, ChannelParameter),
        ):
            if not isinstance(entries, Mapping):
                raise ComponentDefinitionError(f"{cls.__qualname__}.{section} must be a dict")
            for key, value in entries.items():
                if not (isinstance(key, str) and key.isidentifier()):
                    raise ComponentDefinitionError(
                        f"{cls.__qualname__}.{section}: key {key!r} is not a Python identifier"
                    )
                if not isinstance(value, kind):
                    raise ComponentDefinitionError(
                        f"{cls.__qualname__}.{section}[{key!r}] must be a {kind.__name__}, "
                        f"got {type(value).__name__}"
                    )
                if key in seen:
                    raise ComponentDefinitionError(
                        f"{cls.__qualname__}: key {key!r} is declared in both {seen[key]} "
                        f"and {section}"
                    )
                seen[key] = section


class BaseNode:
    """A node of the pipeline graph: a component, a resolver or an importer."""

    #: IR node kind.
    KIND: ClassVar[str] = "component"

    def __init__(self) -> None:
        self._id: str | None = None
        self._explicit_upstream: list[BaseNode] = []
        self._conditions: tuple[Predicate, ...] = current_conditions()
        self._enable_cache: bool | None = None
        self.inputs: dict[str, Channel] = {}
        self.outputs: dict[str, OutputChannel] = {}
        self.exec_properties: dict[str, Any] = {}

    # Identity ------------------------------------------------------------------------------

    @classmethod
    def default_id(cls) -> str:
        return cls.__name__

    @property
    def id(self) -> str:
        return self._id or self.default_id()

    def with_id(self: N, id: str) -> N:  # noqa: A002 - TFX's name
        if not (isinstance(id, str) and _ID_PATTERN.match(id)):
            raise InvalidComponentArgumentError(
                f"{type(self).__name__}: invalid node id {id!r}: use letters, digits, '_', "
                "'-' and '.', starting with a letter or '_'"
            )
        self._id = id
        return self

    @property
    def type(self) -> str:
        """The node's type name, recorded in the IR and in ML Metadata."""
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}"

    # Options -------------------------------------------------------------------------------

    def with_cache(self: N, enabled: bool) -> N:
        """Override the pipeline's ``enable_cache`` for this node."""
        if not isinstance(enabled, bool):
            raise InvalidComponentArgumentError(f"{self.id}: with_cache() takes True or False")
        self._enable_cache = enabled
        return self

    @property
    def enable_cache(self) -> bool | None:
        return self._enable_cache

    @property
    def conditions(self) -> tuple[Predicate, ...]:
        return self._conditions

    # Graph ---------------------------------------------------------------------------------

    def add_upstream_node(self, node: BaseNode) -> None:
        """Run after ``node`` even though no data flows between them."""
        if not isinstance(node, BaseNode):
            raise TypeError(f"{self.id}: add_upstream_node() takes a node, got {node!r}")
        if node not in self._explicit_upstream:
            self._explicit_upstream.append(node)

    def add_downstream_node(self, node: BaseNode) -> None:
        node.add_upstream_node(self)

    @property
    def explicit_upstream_nodes(self) -> tuple[BaseNode, ...]:
        return tuple(self._explicit_upstream)

    @property
    def upstream_nodes(self) -> list[BaseNode]:
        """Producers of inputs and of condition channels, and explicit dependencies."""
        found: list[BaseNode] = []
        channels = list(self.inputs.values()) + [p.channel for p in self._conditions]
        for channel in channels:
            producer = channel.producer
            if producer is not None and producer not in found:
                found.append(producer)
        for node in self._explicit_upstream:
            if node not in found:
                found.append(node)
        return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id!r}>"


class BaseComponent(BaseNode):
    """A node that runs an executor. Subclasses set ``SPEC_CLASS`` and ``EXECUTOR_SPEC``."""

    SPEC_CLASS: ClassVar[type[ComponentSpec]]
    #: ``"module:attr"`` of the executor class (a class is accepted and turned into its reference).
    EXECUTOR_SPEC: ClassVar[str | type]
    #: Optional ``"module:function"`` run before the cache lookup (see :mod:`headrace_core.driver`).
    #: Its module must be light: it is imported on every launch, cached or not.
    DRIVER_SPEC: ClassVar[str | None] = None
    #: Environment variables the executor needs set before its libraries are imported, e.g.
    #: ``{"TF_USE_LEGACY_KERAS": "1"}`` for tf.Transform and TFMA. Runners apply them (without
    #: overriding what the user set) before any executor of the run is imported.
    EXECUTOR_ENV: ClassVar[Mapping[str, str]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        #: Parameters read from an upstream artifact when the node launches (TFX's placeholder).
        self.dynamic_parameters: dict[str, ArtifactValue] = {}
        cls = type(self)
        cls.check_definition()
        spec = cls.SPEC_CLASS
        name = cls.__name__
        known = list(spec.PARAMETERS) + list(spec.INPUTS)
        for key in kwargs:
            if key in spec.PARAMETERS or key in spec.INPUTS:
                continue
            if key in spec.OUTPUTS:
                raise InvalidComponentArgumentError(
                    f"{name}: {key!r} is an output; read it from .outputs[{key!r}] instead of "
                    "passing it"
                )
            hint = difflib.get_close_matches(key, known, n=1)
            raise InvalidComponentArgumentError(
                f"{name}: unknown argument {key!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; accepted: {', '.join(known) or 'none'}"
            )

        for key, param in spec.PARAMETERS.items():
            value = kwargs.get(key)
            if value is None:
                if param.has_default:
                    if param.default is not None:
                        self.exec_properties[key] = param.coerce(
                            param.default, f"{name}: default of parameter {key!r}"
                        )
                elif not param.optional:
                    raise InvalidComponentArgumentError(
                        f"{name}: missing required parameter {key!r} ({param.label})"
                    )
                continue
            if isinstance(value, Channel):
                raise InvalidComponentArgumentError(
                    f"{name}: parameter {key!r} takes a {param.label} value, not a channel"
                )
            if isinstance(value, ArtifactValue):
                producer = value.channel.producer
                if producer is None:
                    raise InvalidComponentArgumentError(
                        f"{name}: parameter {key!r} reads {value.describe()}: a channel "
                        "without a producer has no artifact to read"
                    )
                self.dynamic_parameters[key] = value
                self.add_upstream_node(producer)  # it must run first
                continue
            self.exec_properties[key] = param.coerce(value, f"{name}: parameter {key!r}")

        for key, channel_param in spec.INPUTS.items():
            value = kwargs.get(key)
            if value is None:
                if not channel_param.optional:
                    raise InvalidComponentArgumentError(
                        f"{name}: missing required input {key!r} "
                        f"(a channel of {channel_param.type.TYPE_NAME})"
                    )
                continue
            self.inputs[key] = _check_input_channel(name, key, channel_param, value)

        selected = cls.selected_outputs(self.exec_properties)
        for key, channel_param in spec.OUTPUTS.items():
            if channel_param.optional and key not in selected:
                continue
            self.outputs[key] = OutputChannel(channel_param.type, self, key)

    @classmethod
    def selected_outputs(cls, exec_properties: Mapping[str, Any]) -> Collection[str]:
        """The optional outputs (``optional=True`` in ``OUTPUTS``) that a node with these
        parameters produces. The rest are left out of ``outputs``, the IR and the store, as TFX
        leaves an unused optional output unset (BulkInferrer writes ``output_examples`` only
        with an ``output_example_spec``, ``inference_result`` otherwise). Called with the
        checked parameters, also when a node is rebuilt from the IR; by default all."""
        return cls.SPEC_CLASS.OUTPUTS.keys()

    @classmethod
    def check_definition(cls) -> None:
        """Raise :class:`ComponentDefinitionError` if the class is not a usable component."""
        if cls.__dict__.get("_definition_checked"):
            return
        spec = getattr(cls, "SPEC_CLASS", None)
        if not (isinstance(spec, type) and issubclass(spec, ComponentSpec)):
            raise ComponentDefinitionError(
                f"component {cls.__qualname__} must set SPEC_CLASS to a ComponentSpec subclass"
            )
        spec.check()
        cls.executor_ref()
        cls.driver_ref()
        cls._definition_checked = True  # type: ignore[attr-defined]

    @classmethod
    def executor_ref(cls) -> str:
        executor = getattr(cls, "EXECUTOR_SPEC", None)
        if isinstance(executor, type):
            try:
                return object_ref(executor)
            except ValueError as e:
                raise ComponentDefinitionError(
                    f"component {cls.__qualname__}: EXECUTOR_SPEC: {e}"
                ) from None
        if not (isinstance(executor, str) and _REF_PATTERN.match(executor)):
            raise ComponentDefinitionError(
                f"component {cls.__qualname__} must set EXECUTOR_SPEC to a 'module:attr' "
                f"string, got {executor!r}"
            )
        return executor

    @classmethod
    def driver_ref(cls) -> str | None:
        driver = cls.DRIVER_SPEC
        if driver is None:
            return None
        if not (isinstance(driver, str) and _REF_PATTERN.match(driver)):
            raise ComponentDefinitionError(
                f"component {cls.__qualname__}: DRIVER_SPEC must be a 'module:function' string, "
                f"got {driver!r}"
            )
        return driver

    @property
    def spec(self) -> type[ComponentSpec]:
        return type(self).SPEC_CLASS

    @classmethod
    def _restore(cls, arguments: Mapping[str, Any]) -> BaseComponent:
        """Rebuild a component from its final spec arguments, bypassing a custom ``__init__``."""
        node = cls.__new__(cls)
        BaseComponent.__init__(node, **arguments)
        return node


def _check_input_channel(component: str, key: str, param: ChannelParameter, value: Any) -> Channel:
    expected = param.type.TYPE_NAME
    if not isinstance(value, Channel):
        raise InvalidComponentArgumentError(
            f"{component}: input {key!r} expects a channel of {expected} "
            f"(for example other.outputs['...']), got {type(value).__name__} {value!r:.80}"
        )
    if not issubclass(value.type, param.type):
        raise InvalidComponentArgumentError(
            f"{component}: input {key!r} expects {expected} artifacts, got a channel of "
            f"{value.type_name}"
            + (
                f" from {value.producer_component_id}.outputs[{value.output_key!r}]"
                if value.producer is not None
                else ""
            )
        )
    if value.producer is None and value.producer_component_id is None:
        raise InvalidComponentArgumentError(
            f"{component}: input {key!r} got a Channel with no producer; only a Resolver "
            "accepts those (to query every artifact of a type), or name the output: "
            "Channel(type=..., producer_component_id=..., output_key=...)"
        )
    return value
