"""The user's ``module_file`` / ``module_path``: TFX's two optional Evaluator hooks, and metric
classes an eval config names, all through the core's one user-code loader.

A module file runs as the cache key hashed it (:mod:`headrace_core.usercode`): it is imported
from a content-addressed copy under a name unique to its content. An eval config cannot know
that name, so a metric whose ``module`` is the file's own name (its stem, what TFX's packaged
user module is imported as) is pointed at the loaded copy. Light: TFMA is not imported here.
"""

from __future__ import annotations

import inspect
import os
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from headrace_core.usercode import load_user_function, materialize
from headrace_evaluator.errors import UserModuleError

__all__ = [
    "CUSTOM_EVAL_SHARED_MODEL",
    "CUSTOM_EXTRACTORS",
    "HOOKS",
    "UserModule",
    "load_user_module",
    "resolve_metric_modules",
]

CUSTOM_EVAL_SHARED_MODEL = "custom_eval_shared_model"
CUSTOM_EXTRACTORS = "custom_extractors"
#: TFX's hook names and the signatures it calls them with.
HOOKS = {
    CUSTOM_EVAL_SHARED_MODEL: "(eval_saved_model_path, model_name, eval_config, **kwargs)",
    CUSTOM_EXTRACTORS: "(eval_shared_model, eval_config, tensor_adapter_config)",
}
_COMPONENT = "Evaluator"


@dataclass
class UserModule:
    """The loaded module, its hooks (None where it defines none) and how configs name it."""

    module: types.ModuleType
    described: str  # "module_file /abs/m.py" or "module_path 'pkg.m'", for messages
    names: tuple[str, ...]  # what a metric's ``module`` may say to mean this module
    hooks: dict[str, Callable[..., Any] | None] = field(default_factory=dict)
    metric_classes: list[type] = field(default_factory=list)

    def hook(self, name: str) -> Callable[..., Any] | None:
        return self.hooks.get(name)

    def code_objects(self) -> list[Callable[..., Any]]:
        """What Beam workers elsewhere must be able to import (for ``with_user_code``)."""
        return [*(h for h in self.hooks.values() if h is not None), *self.metric_classes]


def _hook(module_file: str | None, module_path: str | None, name: str) -> Any:
    try:
        return load_user_function(
            module_file=module_file,
            module_path=f"{module_path}:{name}" if module_path else None,
            function=name,
            component=_COMPONENT,
            signature=HOOKS[name],
            error=UserModuleError,
            path_parameter="module_path",
        )
    except UserModuleError as e:
        if e.problem is not None and e.problem.kind == "no_function":
            return None  # both hooks are optional, as in TFX
        raise


def _defined(module: types.ModuleType, kind: Callable[[Any], bool]) -> list[str]:
    return sorted(
        n
        for n, v in vars(module).items()
        if kind(v) and not n.startswith("_") and getattr(v, "__module__", None) == module.__name__
    )


def load_user_module(exec_properties: Mapping[str, Any]) -> UserModule | None:
    """The module ``module_file`` or ``module_path`` names, imported; None when neither is set."""
    module_file = exec_properties.get("module_file") or None
    module_path = exec_properties.get("module_path") or None
    if not module_file and not module_path:
        return None
    hooks = {name: _hook(module_file, module_path, name) for name in HOOKS}
    if module_file:
        # The loader imported the file's copy under this name (the same content, the same
        # name); a file edited in between would be a different copy.
        code = materialize(str(module_file))
        module = sys.modules.get(code.module_name)
        if module is None:
            raise UserModuleError(
                f"Evaluator: module_file {module_file} changed while it was being loaded; "
                "run the node again"
            )
        described = f"module_file {module_file}"
        names = (os.path.splitext(os.path.basename(str(module_file)))[0], code.module_name)
    else:
        module = sys.modules[str(module_path)]
        described = f"module_path {module_path!r}"
        names = (str(module_path),)
    return UserModule(module, described, names, hooks)


def resolve_metric_modules(config: Any, user: UserModule | None) -> None:
    """Point the eval config's metrics that name the user module at the loaded module, and
    check that it defines each class they name (in place, on TFMA's config message)."""
    for i, spec in enumerate(config.metrics_specs):
        for j, metric in enumerate(spec.metrics):
            if user is None or metric.module not in user.names:
                continue
            metric.module = user.module.__name__
            cls = getattr(user.module, metric.class_name, None)
            if not inspect.isclass(cls):
                classes = _defined(user.module, inspect.isclass)
                found = f" (it is a {type(cls).__name__})" if cls is not None else ""
                also = f"; it defines {', '.join(classes)}" if classes else "; it defines none"
                raise UserModuleError(
                    f"Evaluator: eval_config metrics_specs[{i}].metrics[{j}] names class "
                    f"{metric.class_name!r} of {user.described}, which defines no such "
                    f"class{found}{also}"
                )
            if cls not in user.metric_classes:
                user.metric_classes.append(cls)
    if user is not None and not user.metric_classes and not any(user.hooks.values()):
        functions = _defined(user.module, inspect.isfunction)
        raise UserModuleError(
            f"Evaluator: {user.described} defines neither "
            f"{CUSTOM_EVAL_SHARED_MODEL}{HOOKS[CUSTOM_EVAL_SHARED_MODEL]} nor "
            f"{CUSTOM_EXTRACTORS}{HOOKS[CUSTOM_EXTRACTORS]}, and no metric of eval_config names "
            f"it as its module ({', '.join(user.names[:1])!r})"
            + (f"; it defines {', '.join(functions)}" if functions else "")
        )
