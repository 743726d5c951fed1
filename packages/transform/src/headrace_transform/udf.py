"""The user's ``preprocessing_fn``, from a module file or a dotted path, through the core's
one user-code loader (:mod:`headrace_core.usercode`): the module file and the helpers beside
it run as the cache key hashed them, and the function imports by name in Beam workers.

Only the wording is the Transform's: every failure is a :class:`UserModuleError` naming the
file (or module) and the function.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from headrace_core.usercode import Problem, UserCodeError, load_user_function

__all__ = [
    "PREPROCESSING_FN",
    "UserModuleError",
    "bind_custom_config",
    "load_from_module_file",
    "load_from_path",
    "load_preprocessing_fn",
]

PREPROCESSING_FN = "preprocessing_fn"
_CUSTOM_CONFIG = "custom_config"
_COMPONENT = "Transform"


class UserModuleError(UserCodeError, ValueError):
    """The user's module cannot be loaded or does not define the function asked for."""

    @classmethod
    def describe(cls, p: Problem) -> str:
        if p.kind == "no_function":
            also = f" (its functions: {', '.join(p.defined)})" if p.defined else ""
            return f"{p.component}: {p.where} defines no function {p.function!r}{also}"
        if p.kind == "not_callable":
            return f"{p.component}: {p.where}: {p.function!r} is a {p.detail}, not a function"
        if p.kind == "bad_path":
            return f"{p.component}: {p.parameter} {p.ref!r} is not a 'module.function' path"
        if p.kind == "not_importable":
            return (
                f"{p.component}: {p.parameter} {p.ref!r}: {p.where} failed to import, so "
                f"{p.function} cannot be loaded: {p.detail}"
            )
        return super().describe(p)


def load_from_module_file(module_file: str, function: str = PREPROCESSING_FN) -> Callable[..., Any]:
    """``function`` from the Python file ``module_file``; the helpers beside it import by name."""
    return load_user_function(
        module_file=module_file,
        function=function,
        component=_COMPONENT,
        signature="(inputs)",
        error=UserModuleError,
    )


def load_from_path(dotted: str) -> Callable[..., Any]:
    """The function named by ``"package.module.function"`` (TFX's ``preprocessing_fn``)."""
    return load_user_function(
        module_path=dotted,
        function=PREPROCESSING_FN,
        component=_COMPONENT,
        error=UserModuleError,
    )


def _takes_custom_config(fn: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return _CUSTOM_CONFIG in parameters


def bind_custom_config(
    fn: Callable[..., Any], custom_config: Mapping[str, Any] | None
) -> Callable[..., Any]:
    """``fn`` with ``custom_config`` bound when its signature takes it (TFX's rule)."""
    if not _takes_custom_config(fn):
        return fn
    return functools.partial(fn, custom_config=dict(custom_config or {}))


def load_preprocessing_fn(
    module_file: str | None,
    preprocessing_fn: str | None,
    custom_config: Mapping[str, Any] | None = None,
) -> Callable[..., Any]:
    """The user's preprocessing_fn, from exactly one of ``module_file`` and ``preprocessing_fn``,
    with ``custom_config`` bound when it takes one."""
    fn = load_user_function(
        module_file=module_file,
        module_path=preprocessing_fn,
        function=PREPROCESSING_FN,
        component=_COMPONENT,
        signature="(inputs)",
        error=UserModuleError,
    )
    return bind_custom_config(fn, custom_config)
