"""Errors the Tuner raises on purpose, each naming the function, field or trial at fault.

Problems with the inputs shared with the Trainer (a missing split, schema or hyperparameters
file) are the Trainer's :class:`~headrace_trainer.TrainerError`, their messages naming the
Tuner.
"""

from __future__ import annotations

from headrace_core import HeadraceError
from headrace_core.usercode import UserCodeError

__all__ = ["TunerError", "UserModuleError"]


class TunerError(HeadraceError):
    """Base of the Tuner's own errors: a bad ``tuner_fn`` result, a search with no trial."""


class UserModuleError(TunerError, UserCodeError):
    """The user's module cannot provide ``tuner_fn``: the file is missing, fails to import, or
    does not define the function."""
