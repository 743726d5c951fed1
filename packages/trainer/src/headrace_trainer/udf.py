"""Loading the user's ``run_fn``: from a module file, or from an importable module by name.

Light on purpose (the driver uses it too). Every failure is a :class:`UserModuleError` whose
first line names the file or module and the function, since that line is what a failed
node's summary shows; the original exception is chained for the full traceback.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import os
import re
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

from headrace_trainer.errors import UserModuleError

__all__ = ["RUN_FN", "find_module_source", "load_from_file", "load_from_ref", "load_run_fn"]

#: The function a module file must define, as in TFX.
RUN_FN = "run_fn"


def load_run_fn(exec_properties: Mapping[str, Any]) -> Callable[[Any], Any]:
    """``run_fn`` from ``exec_properties['module_file']`` or ``exec_properties['run_fn']``."""
    module_file = exec_properties.get("module_file")
    ref = exec_properties.get("run_fn")
    if bool(module_file) == bool(ref):
        raise UserModuleError(
            "Trainer: exactly one of module_file and run_fn must be set, got "
            f"module_file={module_file!r}, run_fn={ref!r}"
        )
    if module_file:
        return load_from_file(str(module_file), RUN_FN)
    return load_from_ref(str(ref))


def _forget_siblings(folder: str) -> None:
    """Drop modules loaded from ``folder`` so helpers beside a module file are imported afresh.

    The cache key covers those helpers: a re-run caused by editing one must also run the
    edited code, even in a long-lived process that imported the old version.
    """
    if "site-packages" in folder or "dist-packages" in folder:
        return
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and os.path.dirname(os.path.abspath(path)) == folder:
            del sys.modules[name]


def load_from_file(path: str, fn_name: str = RUN_FN) -> Callable[[Any], Any]:
    """Execute ``path`` as a fresh module and return its ``fn_name``.

    The file is compiled from its current source every time (no bytecode cache, no module
    reused from an earlier load), so an edited module file always runs as edited. Its folder
    is put on ``sys.path`` so it can import the modules beside it.
    """
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise UserModuleError(
            f"Trainer: module_file {path} does not exist (it should define {fn_name}(fn_args))"
        )
    folder = os.path.dirname(path)
    _forget_siblings(folder)
    importlib.invalidate_caches()
    if folder not in sys.path:
        sys.path.insert(0, folder)
    with open(path, "rb") as f:
        source = f.read()
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    name = f"headrace_user_module_{stem}_{hashlib.sha256(source).hexdigest()[:12]}"
    module = types.ModuleType(name)
    module.__file__ = path
    # Registered before it runs, as an import would: dataclasses and pickling look it up.
    sys.modules[name] = module
    try:
        exec(compile(source, path, "exec"), module.__dict__)
    except Exception as e:
        sys.modules.pop(name, None)
        raise UserModuleError(
            f"Trainer: module_file {path} failed to import, so {fn_name} cannot be loaded: "
            f"{type(e).__name__}: {e}"
        ) from e
    return _function(module, fn_name, f"module_file {path}")


def load_from_ref(ref: str) -> Callable[[Any], Any]:
    """Import ``"package.module.function"`` (or ``"package.module:function"``)."""
    module_name, sep, fn_name = ref.partition(":")
    if not sep:
        module_name, _, fn_name = ref.rpartition(".")
    if not module_name or not fn_name:
        raise UserModuleError(f"Trainer: run_fn {ref!r} is not 'package.module.function'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
            raise UserModuleError(
                f"Trainer: run_fn {ref!r}: module {module_name!r} is not importable (no module "
                f"named {e.name!r}; is it installed, or on sys.path?)"
            ) from e
        raise UserModuleError(
            f"Trainer: run_fn {ref!r}: module {module_name!r} failed to import: "
            f"{type(e).__name__}: {e}"
        ) from e
    except Exception as e:
        where = getattr(sys.modules.get(module_name), "__file__", None) or module_name
        raise UserModuleError(
            f"Trainer: run_fn {ref!r}: module {module_name!r} ({where}) failed to import: "
            f"{type(e).__name__}: {e}"
        ) from e
    where = getattr(module, "__file__", None) or module_name
    return _function(module, fn_name, f"module {module_name!r} ({where})")


def _function(module: types.ModuleType, fn_name: str, where: str) -> Callable[[Any], Any]:
    fn = getattr(module, fn_name, None)
    if fn is None:
        defined = sorted(
            n
            for n, v in vars(module).items()
            if isinstance(v, types.FunctionType)
            and not n.startswith("_")
            and v.__module__ == module.__name__
        )
        raise UserModuleError(
            f"Trainer: {where} defines no function {fn_name}(fn_args)"
            + (f"; it defines {', '.join(defined)}" if defined else "")
        )
    if not callable(fn):
        raise UserModuleError(
            f"Trainer: {fn_name} in {where} is a {type(fn).__name__}, not a function"
        )
    return fn  # type: ignore[no-any-return]


def find_module_source(module_name: str) -> str | None:
    """The ``.py`` file of ``module_name``, found without importing it or its packages.

    The driver uses it to put a ``run_fn`` module's source in the cache key; importing the
    module there would import TensorFlow on every launch.
    """
    loaded = sys.modules.get(module_name)
    path = getattr(loaded, "__file__", None)
    if not path:
        search: list[str] | None = None
        spec = None
        parts = module_name.split(".")
        for i, part in enumerate(parts):
            spec = importlib.machinery.PathFinder.find_spec(part, search)
            if spec is None:
                return None
            if i < len(parts) - 1:
                if spec.submodule_search_locations is None:
                    return None
                search = list(spec.submodule_search_locations)
        path = spec.origin if spec is not None else None
    if path and path.endswith(".py") and os.path.isfile(path):
        return os.path.abspath(path)
    return None
