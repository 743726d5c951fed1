"""Loading the user's ``preprocessing_fn`` from a module file or a dotted path.

A module file is executed under a fresh module name derived from its path and content, so a
long-lived process (a notebook, an orchestrator worker) runs the edited file instead of a
stale ``sys.modules`` entry. Every failure names the file (or module) and the function.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

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


class UserModuleError(ValueError):
    """The user's module cannot be loaded or does not define the function asked for."""


def _module_name(path: str, source: bytes) -> str:
    stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    digest = hashlib.sha256(os.path.abspath(path).encode() + b"\0" + source).hexdigest()[:16]
    return f"headrace_user_module_{stem}_{digest}"


def load_from_module_file(module_file: str, function: str = PREPROCESSING_FN) -> Callable[..., Any]:
    """``function`` from the Python file ``module_file``.

    The file's folder goes on ``sys.path`` so the helpers beside it import by name, as they
    do when the file runs as a script (and as TFX loads module files).
    """
    path = os.path.abspath(module_file)
    if not os.path.isfile(path):
        raise UserModuleError(
            f"Transform: module_file {module_file} does not exist"
            + (f" (resolved to {path})" if path != module_file else "")
            + f"; it should define {function}(inputs)"
        )
    with open(path, "rb") as f:
        source = f.read()
    name = _module_name(path, source)
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise UserModuleError(f"Transform: cannot load module_file {path} as a Python module")
        module = importlib.util.module_from_spec(spec)
        directory = os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        # Registered before execution, as a normal import does: dataclasses, pickling by
        # reference and typing.get_type_hints look the module up by name.
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as e:
            del sys.modules[name]
            if isinstance(e, KeyboardInterrupt | SystemExit):
                raise
            raise UserModuleError(
                f"Transform: module_file {path} failed to import, so {function} cannot be "
                f"loaded: {type(e).__name__}: {e}"
            ) from e
    return _function_of(module, function, f"module_file {path}")


def load_from_path(dotted: str) -> Callable[..., Any]:
    """The function named by ``"package.module.function"`` (TFX's ``preprocessing_fn``)."""
    module_name, _, function = dotted.strip().rpartition(".")
    if not module_name or not function:
        raise UserModuleError(
            f"Transform: preprocessing_fn {dotted!r} is not a 'module.function' path"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as e:
        raise UserModuleError(
            f"Transform: preprocessing_fn {dotted!r}: module {module_name!r} failed to import, "
            f"so {function} cannot be loaded: {type(e).__name__}: {e}"
        ) from e
    where = f"module {module_name!r} ({getattr(module, '__file__', None) or 'no file'})"
    return _function_of(module, function, where)


def _function_of(module: Any, function: str, where: str) -> Callable[..., Any]:
    fn = getattr(module, function, None)
    if fn is None:
        defined = sorted(
            n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_")
        )
        raise UserModuleError(
            f"Transform: {where} defines no function {function!r}"
            + (f" (its functions: {', '.join(defined)})" if defined else "")
        )
    if not callable(fn):
        raise UserModuleError(
            f"Transform: {where}: {function!r} is a {type(fn).__name__}, not a function"
        )
    return fn  # type: ignore[no-any-return]


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
    if bool(module_file) == bool(preprocessing_fn):
        raise UserModuleError(
            "Transform: exactly one of module_file and preprocessing_fn must be set, got "
            f"module_file={module_file!r}, preprocessing_fn={preprocessing_fn!r}"
        )
    if module_file:
        fn = load_from_module_file(module_file)
    else:
        assert preprocessing_fn is not None
        fn = load_from_path(preprocessing_fn)
    return bind_custom_config(fn, custom_config)
