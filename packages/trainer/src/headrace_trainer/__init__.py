"""headrace Trainer: trains a model with the user's ``run_fn(fn_args)``, as TFX's Trainer.

Importing this package imports only headrace-core's contracts; TensorFlow, tf.Transform and
tfx-bsl are imported by the executor when a node runs.
"""

from __future__ import annotations

from headrace_trainer.__about__ import __version__
from headrace_trainer.component import Trainer, TrainerSpec
from headrace_trainer.errors import (
    ModelNotExportedError,
    RewriterUnavailableError,
    RewritingError,
    TrainerError,
    UserModuleError,
)
from headrace_trainer.fn_args import DataAccessor, FnArgs

__all__ = [
    "DataAccessor",
    "FnArgs",
    "ModelNotExportedError",
    "RewriterUnavailableError",
    "RewritingError",
    "Trainer",
    "TrainerError",
    "TrainerSpec",
    "UserModuleError",
    "__version__",
]
