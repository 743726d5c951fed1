"""Python-function components, as TFX's ``@component`` decorator makes them.

::

    @component
    def Trainer(
        examples: InputArtifact[Examples],
        model: OutputArtifact[Model],
        epochs: Parameter[int] = 10,
        threshold: float = 0.5,            # a Float value artifact input
    ) -> TypedDict("Outputs", {"accuracy": float, "summary": str}):
        ...
        return {"accuracy": 0.97, "summary": "ok"}

``InputArtifact[T]`` and ``OutputArtifact[T]`` pass artifacts, ``Parameter[T]`` is a parameter
recorded in the pipeline, and plain ``int/float/str/bool/bytes/dict/list`` arguments and return
values travel as value artifacts. The decorated name becomes a component class; its executor is
found again by the function's module and name when the node runs, so the function must be
defined at module level.
"""

from __future__ import annotations

import inspect
import os
import sys
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from headrace_core.artifacts import (
    Artifact,
    Boolean,
    Bytes,
    Float,
    Integer,
    JsonValue,
    String,
    ValueArtifact,
)
from headrace_core.component import (
    BaseComponent,
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
    _strip_optional,
)
from headrace_core.errors import ComponentDefinitionError, InvalidComponentArgumentError
from headrace_core.executor import BaseExecutor
from headrace_core.placeholders import resolve

__all__ = [
    "FunctionComponent",
    "FunctionExecutor",
    "InputArtifact",
    "OutputArtifact",
    "Parameter",
    "component",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: The output key of a function that returns one plain value.
SINGLE_OUTPUT_KEY = "output"


class _Annotation:
    def __init__(self, kind: str, inner: Any) -> None:
        self.kind = kind
        self.inner = inner

    def __repr__(self) -> str:
        return f"{self.kind}[{getattr(self.inner, '__name__', self.inner)}]"


class InputArtifact(Generic[T]):
    """``InputArtifact[Examples]``: the function receives the input artifact."""

    def __class_getitem__(cls, item: Any) -> Any:
        return _Annotation("input_artifact", item)


class OutputArtifact(Generic[T]):
    """``OutputArtifact[Model]``: the function receives the output artifact to fill in."""

    def __class_getitem__(cls, item: Any) -> Any:
        return _Annotation("output_artifact", item)


class Parameter(Generic[T]):
    """``Parameter[int]``: a parameter fixed when the pipeline is defined."""

    def __class_getitem__(cls, item: Any) -> Any:
        return _Annotation("parameter", item)


def _value_artifact_type(tp: Any) -> type[ValueArtifact] | None:
    base = typing.get_origin(tp) or tp
    if base is bool:
        return Boolean
    if base is int:
        return Integer
    if base is float:
        return Float
    if base is str:
        return String
    if base is bytes:
        return Bytes
    if base in (dict, list) or (isinstance(base, type) and issubclass(base, (dict, list))):
        return JsonValue
    return None


class FunctionComponent(BaseComponent):
    """Base of the classes ``@component`` creates."""

    #: argument name -> (kind, default); kind is input_artifact, output_artifact, parameter, value.
    ARGUMENTS: ClassVar[Mapping[str, tuple[str, Any]]] = {}
    #: output keys written from the return value.
    RETURNS: ClassVar[tuple[str, ...]] = ()
    #: whether the function returns a mapping (TypedDict) rather than one value.
    RETURNS_MAPPING: ClassVar[bool] = False
    SOURCE_FILE: ClassVar[str | None] = None

    @classmethod
    def function(cls) -> Callable[..., Any]:
        return cls.__dict__["_function"]  # type: ignore[no-any-return]


class FunctionExecutor(BaseExecutor):
    """Calls the decorated function with artifacts, parameters and values, then stores results."""

    COMPONENT: ClassVar[type[FunctionComponent]]

    def Do(  # noqa: N802 - TFX's name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        comp = type(self).COMPONENT
        spec = comp.SPEC_CLASS
        kwargs: dict[str, Any] = {}
        for name, (kind, default) in comp.ARGUMENTS.items():
            if kind == "output_artifact":
                kwargs[name] = _single(comp, name, output_dict.get(name), optional=False)
            elif kind == "parameter":
                if name in exec_properties:
                    # The runtime resolves parameters before Do; this covers a direct call.
                    value = resolve(exec_properties[name], self.context.pipeline_root)
                    param = spec.PARAMETERS[name]
                    if param.is_proto and value is not None:
                        # As compiled into the IR (a JSON dict), as JSON text, or a message.
                        value = param.coerce(value, f"{comp.__name__}: parameter {name!r}")
                    kwargs[name] = value
                elif default is inspect.Parameter.empty:
                    kwargs[name] = None
                else:
                    kwargs[name] = resolve(default, self.context.pipeline_root)
            else:
                optional = spec.INPUTS[name].optional
                artifact = _single(comp, name, input_dict.get(name), optional=optional)
                if kind == "input_artifact":
                    kwargs[name] = artifact
                elif artifact is None:
                    kwargs[name] = None if default is inspect.Parameter.empty else default
                else:
                    assert isinstance(artifact, ValueArtifact)
                    kwargs[name] = artifact.value

        result = comp.function()(**kwargs)
        if not comp.RETURNS:
            return
        if comp.RETURNS_MAPPING:
            if not isinstance(result, Mapping):
                raise TypeError(
                    f"{comp.__name__} must return a dict with keys {list(comp.RETURNS)}, "
                    f"got {type(result).__name__}"
                )
            values = dict(result)
        else:
            values = {SINGLE_OUTPUT_KEY: result}
        for key in comp.RETURNS:
            if values.get(key) is None:
                raise ValueError(f"{comp.__name__} returned no value for output {key!r}")
            artifact = _single(comp, key, output_dict.get(key), optional=False)
            assert isinstance(artifact, ValueArtifact)
            artifact.value = values[key]


def _single(
    comp: type[FunctionComponent], key: str, artifacts: list[Artifact] | None, optional: bool
) -> Artifact | None:
    if not artifacts:
        if optional:
            return None
        raise ValueError(f"{comp.__name__}: no artifact for {key!r}")
    if len(artifacts) != 1:
        raise ValueError(
            f"{comp.__name__}: {key!r} received {len(artifacts)} artifacts; a function "
            "component takes exactly one"
        )
    return artifacts[0]


def component(func: F | None = None) -> Any:
    """Turn a module-level function into a component class (TFX's ``@component``)."""
    if func is None:
        return component
    return _make_component(func)


def _module_name(func: Callable[..., Any]) -> tuple[str, str | None]:
    module = func.__module__
    try:
        source = inspect.getsourcefile(func)
    except TypeError:
        source = None
    source = os.path.abspath(source) if source else None
    if module == "__main__":
        # A script's functions are importable later under the file's own name.
        if source is None:
            raise ComponentDefinitionError(
                f"function component {func.__qualname__} is defined in an interactive "
                "session; define it in a module file so it can be imported by name"
            )
        module = os.path.splitext(os.path.basename(source))[0]
        sys.modules.setdefault(module, sys.modules["__main__"])
    return module, source


def _make_component(func: Callable[..., Any]) -> type[FunctionComponent]:
    if not inspect.isfunction(func):
        raise ComponentDefinitionError(f"@component decorates a function, got {func!r}")
    qualname = func.__qualname__
    where = f"function component {func.__module__}.{qualname}"
    if func.__name__ == "<lambda>":
        raise ComponentDefinitionError(
            f"{where}: a lambda cannot be a component; define a named function at module level"
        )
    if "<locals>" in qualname:
        raise ComponentDefinitionError(
            f"{where} is defined inside another function; define it at module level so its "
            "executor can be imported by name when the node runs"
        )
    if "." in qualname:
        raise ComponentDefinitionError(
            f"{where} is defined inside a class; define it at module level"
        )
    try:
        hints = typing.get_type_hints(func)
    except Exception as e:  # a NameError in a string annotation, for instance
        raise ComponentDefinitionError(f"{where}: cannot resolve type annotations: {e}") from e

    parameters: dict[str, ExecutionParameter] = {}
    inputs: dict[str, ChannelParameter] = {}
    outputs: dict[str, ChannelParameter] = {}
    arguments: dict[str, tuple[str, Any]] = {}
    for name, arg in inspect.signature(func).parameters.items():
        if arg.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise ComponentDefinitionError(f"{where}: *args and **kwargs are not supported")
        if name not in hints:
            raise ComponentDefinitionError(f"{where}: argument {name!r} has no type annotation")
        annotation = hints[name]
        default = arg.default
        has_default = default is not inspect.Parameter.empty
        if isinstance(annotation, _Annotation):
            kind = annotation.kind
            inner = annotation.inner
            if kind in ("input_artifact", "output_artifact"):
                if not (isinstance(inner, type) and issubclass(inner, Artifact)):
                    raise ComponentDefinitionError(
                        f"{where}: argument {name!r}: {kind} needs an Artifact type, got {inner!r}"
                    )
                if kind == "output_artifact":
                    outputs[name] = ChannelParameter(inner)
                else:
                    if has_default and default is not None:
                        raise ComponentDefinitionError(
                            f"{where}: input artifact {name!r} may only default to None"
                        )
                    inputs[name] = ChannelParameter(inner, optional=has_default)
            else:
                try:
                    if has_default:
                        parameters[name] = ExecutionParameter(inner, default=default)
                        if default is not None:
                            # A wrong default fails here, where it is written.
                            parameters[name].coerce(default, "its default")
                    else:
                        parameters[name] = ExecutionParameter(inner)
                except (ComponentDefinitionError, InvalidComponentArgumentError) as e:
                    raise ComponentDefinitionError(f"{where}: parameter {name!r}: {e}") from None
        else:
            inner, was_optional = _strip_optional(annotation)
            value_type = _value_artifact_type(inner)
            if value_type is None:
                raise ComponentDefinitionError(
                    f"{where}: argument {name!r} has unsupported annotation {annotation!r}; use "
                    "InputArtifact[T], OutputArtifact[T], Parameter[T] or one of int, float, "
                    "str, bool, bytes, dict, list"
                )
            inputs[name] = ChannelParameter(value_type, optional=was_optional or has_default)
            kind = "value"
        arguments[name] = (kind, default)

    returns: tuple[str, ...] = ()
    returns_mapping = False
    ret = hints.get("return", type(None))
    if ret is not type(None):
        if typing.is_typeddict(ret):
            returns_mapping = True
            fields = typing.get_type_hints(ret)
            for key, tp in fields.items():
                value_type = _value_artifact_type(_strip_optional(tp)[0])
                if value_type is None:
                    raise ComponentDefinitionError(
                        f"{where}: return field {key!r} has unsupported type {tp!r}; use int, "
                        "float, str, bool, bytes, dict or list"
                    )
                outputs[key] = ChannelParameter(value_type)
            returns = tuple(fields)
        else:
            value_type = _value_artifact_type(_strip_optional(ret)[0])
            if value_type is None:
                raise ComponentDefinitionError(
                    f"{where}: unsupported return annotation {ret!r}; return one of int, float, "
                    "str, bool, bytes, dict, list, or a TypedDict of them"
                )
            outputs[SINGLE_OUTPUT_KEY] = ChannelParameter(value_type)
            returns = (SINGLE_OUTPUT_KEY,)
        clash = set(returns) & set(arguments)
        if clash:
            raise ComponentDefinitionError(
                f"{where}: output {sorted(clash)[0]!r} has the same name as an argument"
            )

    module, source = _module_name(func)
    spec: type[ComponentSpec] = type(
        f"{func.__name__}Spec",
        (ComponentSpec,),
        {
            "PARAMETERS": parameters,
            "INPUTS": inputs,
            "OUTPUTS": outputs,
            "__module__": module,
            "__qualname__": f"{qualname}.Spec",
        },
    )
    spec.check()
    cls = type(
        func.__name__,
        (FunctionComponent,),
        {
            "SPEC_CLASS": spec,
            "EXECUTOR_SPEC": f"{module}:{qualname}.Executor",
            "ARGUMENTS": arguments,
            "RETURNS": returns,
            "RETURNS_MAPPING": returns_mapping,
            "SOURCE_FILE": source,
            "_function": staticmethod(func),
            "__module__": module,
            "__qualname__": qualname,
            "__doc__": func.__doc__,
            "Spec": spec,
        },
    )
    cls.Executor = type(  # type: ignore[attr-defined]
        "Executor",
        (FunctionExecutor,),
        {"COMPONENT": cls, "__module__": module, "__qualname__": f"{qualname}.Executor"},
    )
    return cls
