"""``import tfx`` answered by headrace-tfx, for ``headrace tfx run``: a finder that maps
``tfx`` and every ``tfx.X`` to ``headrace_tfx`` and ``headrace_tfx.X``.

TFX's examples import their helpers from TFX's own tree
(``from tfx.examples.penguin import penguin_utils_base``); those come from a module of the same
name beside the pipeline, as the examples are copied together.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

__all__ = ["activate", "install", "real_tfx_origin", "shim_directory", "uninstall"]

_PREFIX = "tfx"
_EXAMPLES = "tfx.examples."


def real_tfx_origin() -> str | None:
    """Where the real TFX is installed, or None (checked before the alias is installed)."""
    if any(isinstance(f, _TfxAlias) for f in sys.meta_path):
        return None
    spec = importlib.util.find_spec(_PREFIX)
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    origin = spec.origin or (locations[0] if locations else "tfx")
    shim = shim_directory()
    # Our own shim, on the PYTHONPATH of a process a `headrace tfx run` started.
    return None if os.path.abspath(origin).startswith(shim + os.sep) else origin


class _TfxAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        if fullname.startswith(_EXAMPLES) and fullname.count(".") >= 3:
            # tfx.examples.<example>.<module>: the module of that name beside the pipeline.
            target_name = fullname.rsplit(".", 1)[1]
        elif fullname.startswith(_EXAMPLES) or fullname == _EXAMPLES[:-1]:
            return importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        else:
            target_name = "headrace_tfx" + fullname[len(_PREFIX) :]
        try:
            found = importlib.util.find_spec(target_name)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: headrace-tfx maps tfx.v1 and the TFX modules "
                "TFX's examples import, not this one (see docs/migrating-from-tfx.md)",
                name=fullname,
            )
        spec = importlib.util.spec_from_loader(fullname, self, origin=found.origin)
        if spec is not None:
            spec.loader_state = target_name
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(str(spec.loader_state))
        # The import system sets __spec__ on the module it is given; keep the real one.
        spec.loader_state = (module, module.__spec__)
        return module

    def exec_module(self, module: ModuleType) -> None:
        spec = module.__spec__
        if spec is not None and isinstance(spec.loader_state, tuple):
            real, real_spec = spec.loader_state
            real.__spec__ = real_spec


def shim_directory() -> str:
    """The folder whose ``tfx`` package installs the alias in another process."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_shim")


def activate() -> bool:
    """Unless the real TFX is installed: answer ``import tfx`` with headrace-tfx in this
    process and, through the shim on ``PYTHONPATH``, in the processes it starts (node
    processes, Beam workers), so user modules written for TFX import as they are. True when
    active."""
    if real_tfx_origin() is not None:
        return False
    install()
    shim = shim_directory()
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if shim not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([shim, *paths])
    return True


def install() -> None:
    """Answer ``import tfx`` with headrace-tfx in this process (idempotent)."""
    if not any(isinstance(f, _TfxAlias) for f in sys.meta_path):
        sys.meta_path.insert(0, _TfxAlias())


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _TfxAlias)]
    for name in [n for n in sys.modules if n == _PREFIX or n.startswith(_PREFIX + ".")]:
        del sys.modules[name]
