"""The user's ``run_fn``, from a module file or an importable module by name, through the
core's one user-code loader (:mod:`headrace_core.usercode`).

A module file and the helpers beside it run as the cache key hashed them (an edit of either
is imported afresh, even in a long-lived process), and their functions import by name in
Beam worker processes a ``run_fn`` starts. Light on purpose (the driver uses it too). Every
failure is a :class:`UserModuleError` whose first line names the file or module and the
function, since that line is what a failed node's summary shows; the original exception is
chained for the full traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from headrace_core.usercode import find_module_source, load_user_function
from headrace_trainer.errors import UserModuleError

__all__ = ["RUN_FN", "find_module_source", "load_from_file", "load_from_ref", "load_run_fn"]

#: The function a module file must define, as in TFX.
RUN_FN = "run_fn"
_COMPONENT = "Trainer"
_SIGNATURE = "(fn_args)"


def load_run_fn(exec_properties: Mapping[str, Any]) -> Callable[[Any], Any]:
    """``run_fn`` from ``exec_properties['module_file']`` or ``exec_properties['run_fn']``."""
    module_file = exec_properties.get("module_file")
    ref = exec_properties.get("run_fn")
    return load_user_function(
        module_file=str(module_file) if module_file else None,
        module_path=str(ref) if ref else None,
        function=RUN_FN,
        component=_COMPONENT,
        signature=_SIGNATURE,
        error=UserModuleError,
    )


def load_from_file(path: str, fn_name: str = RUN_FN) -> Callable[[Any], Any]:
    """``fn_name`` from the module file ``path``, as its current content (and its helpers')."""
    return load_user_function(
        module_file=path,
        function=fn_name,
        component=_COMPONENT,
        signature=_SIGNATURE,
        error=UserModuleError,
    )


def load_from_ref(ref: str) -> Callable[[Any], Any]:
    """Import ``"package.module.function"`` (or ``"package.module:function"``)."""
    return load_user_function(
        module_path=ref,
        function=RUN_FN,
        component=_COMPONENT,
        signature=_SIGNATURE,
        error=UserModuleError,
    )
