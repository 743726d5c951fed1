"""The Tuner's driver: keys the cache on the source of a ``tuner_fn`` named by reference, as
the Trainer's does for ``run_fn`` (a ``module_file`` is already in every node's key)."""

from __future__ import annotations

from headrace_core.driver import DriverContext, DriverOutput
from headrace_trainer.driver import function_source_driver

__all__ = ["TUNER_FN", "run_driver"]

#: The function a module file must define, as in TFX.
TUNER_FN = "tuner_fn"


def run_driver(context: DriverContext) -> DriverOutput:
    return function_source_driver(context, ref_key="tuner_fn", function=TUNER_FN, component="Tuner")
