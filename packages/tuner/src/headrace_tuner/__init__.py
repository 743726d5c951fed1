"""headrace Tuner: hyperparameter search with KerasTuner through the user's
``tuner_fn(fn_args)``, as TFX's Tuner; its ``best_hyperparameters`` feed the Trainer.

Importing this package imports only headrace-core's and the Trainer's contracts (no
TensorFlow, no KerasTuner). It does install one import hook, so that KerasTuner, whenever it
is imported in this process, runs on the Keras that ``tf.keras`` is (see
:mod:`headrace_tuner._keras`).
"""

from __future__ import annotations

from headrace_tuner.__about__ import __version__
from headrace_tuner._keras import install_hook
from headrace_tuner.component import Tuner, TunerSpec
from headrace_tuner.errors import TunerError, UserModuleError
from headrace_tuner.fn_result import TunerFnResult

install_hook()

__all__ = [
    "Tuner",
    "TunerError",
    "TunerFnResult",
    "TunerSpec",
    "UserModuleError",
    "__version__",
]
