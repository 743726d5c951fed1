"""The Evaluator's driver: a ``module_path`` module's source enters the cache key.

headrace-core already hashes a parameter named ``module_file`` and the ``.py`` files beside
it. A module named by ``module_path`` is found on disk without importing it (importing would
import TensorFlow on every launch, cached or not) and hashed the same way, so editing it
re-runs the Evaluator as editing a module file does.
"""

from __future__ import annotations

import os

from headrace_core.cache import module_files
from headrace_core.driver import DriverContext, DriverOutput
from headrace_core.usercode import find_module_source
from headrace_evaluator.errors import UserModuleError

__all__ = ["run_driver"]


def run_driver(context: DriverContext) -> DriverOutput:
    module_file = context.exec_properties.get("module_file")
    module_path = context.exec_properties.get("module_path")
    if isinstance(module_file, str) and module_file and "://" not in module_file:
        if not os.path.isfile(module_file):
            raise UserModuleError(
                f"Evaluator: module_file {module_file} does not exist (it should define "
                "custom_eval_shared_model, custom_extractors or metric classes)"
            )
        return DriverOutput()
    if isinstance(module_path, str) and module_path:
        source = find_module_source(module_path)
        if source is None:
            # Not on disk as a .py file (a zip import, say): the executor reports a failure.
            return DriverOutput(cache_key={"module_path_source": None})
        files = module_files({"module_file": source})
        return DriverOutput(
            cache_key={"module_path_source": {"module": module_path, "files": files}}
        )
    return DriverOutput()
