"""Errors the Trainer raises on purpose, each naming the file, function or directory at fault."""

from __future__ import annotations

from headrace_core import HeadraceError
from headrace_core.usercode import UserCodeError

__all__ = [
    "ModelNotExportedError",
    "RewriterUnavailableError",
    "RewritingError",
    "TrainerError",
    "UserModuleError",
]


class TrainerError(HeadraceError):
    """Base of the Trainer's own errors."""


class UserModuleError(TrainerError, UserCodeError):
    """The user's module cannot provide ``run_fn``: the file is missing, fails to import, or
    does not define the function."""


class ModelNotExportedError(TrainerError, RuntimeError):
    """``run_fn`` returned without writing a SavedModel or a TFLite model to
    ``fn_args.serving_model_dir``."""


class RewritingError(TrainerError, ValueError):
    """A rewriter refused its model, failed to rewrite it, or wrote one that does not load;
    or no rewriter has the name asked for. A ``ValueError``, as TFX's rewriters raise."""


class RewriterUnavailableError(TrainerError, RuntimeError):
    """The rewriter asked for needs a library that is not installed, or is not shipped."""
