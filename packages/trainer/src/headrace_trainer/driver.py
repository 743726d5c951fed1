"""The Trainer's driver: checks the user module exists and keys the cache on its source.

A ``module_file`` and the ``.py`` files beside it are already part of every node's cache key
(headrace-core hashes a parameter named ``module_file``). A ``run_fn`` named by reference is
not: this driver finds that module's file without importing it (importing would pull in
TensorFlow on every launch, cached or not) and adds the same kind of hashes, so editing it
re-runs the Trainer as editing a module file does.
"""

from __future__ import annotations

import os

from headrace_core.cache import module_files
from headrace_core.driver import DriverContext, DriverOutput
from headrace_core.usercode import find_module_source
from headrace_trainer.errors import UserModuleError
from headrace_trainer.udf import RUN_FN

__all__ = ["function_source_driver", "run_driver"]


def run_driver(context: DriverContext) -> DriverOutput:
    return function_source_driver(context, ref_key="run_fn", function=RUN_FN, component="Trainer")


def function_source_driver(
    context: DriverContext, *, ref_key: str, function: str, component: str
) -> DriverOutput:
    """Key the cache on the source of the user function named by ``ref_key`` (the Trainer's
    ``run_fn``, the Tuner's ``tuner_fn``), or check that the ``module_file`` exists."""
    module_file = context.exec_properties.get("module_file")
    ref = context.exec_properties.get(ref_key)
    if isinstance(module_file, str) and module_file and "://" not in module_file:
        if not os.path.isfile(module_file):
            raise UserModuleError(
                f"{component}: module_file {module_file} does not exist "
                f"(it should define {function}(fn_args))"
            )
        return DriverOutput()
    if isinstance(ref, str) and ref:
        module_name = ref.partition(":")[0] if ":" in ref else ref.rpartition(".")[0]
        source = find_module_source(module_name)
        if source is None:
            # Not findable on disk (a zip import, say): the executor reports it if it fails.
            return DriverOutput(cache_key={f"{ref_key}_source": None})
        return DriverOutput(
            cache_key={
                f"{ref_key}_source": {
                    "module": module_name,
                    "files": module_files({"module_file": source}),
                }
            }
        )
    return DriverOutput()
