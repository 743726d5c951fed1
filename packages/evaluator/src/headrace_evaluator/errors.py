"""Errors the Evaluator raises on purpose, each naming the artifact, file or field at fault."""

from __future__ import annotations

import dataclasses

from headrace_core import HeadraceError
from headrace_core.usercode import Problem, UserCodeError

__all__ = ["EvaluatorError", "UserModuleError"]


class EvaluatorError(HeadraceError, ValueError):
    """The Evaluator's inputs cannot be evaluated: a missing split, model, schema or config."""


class UserModuleError(EvaluatorError, UserCodeError):
    """The user's ``module_file`` / ``module_path`` cannot be used: missing, failing to import,
    a hook that is not a function, or a metric class it does not define."""

    @classmethod
    def describe(cls, p: Problem) -> str:
        # The loader is handed "module:function" to fetch one hook; the user wrote the module.
        return super().describe(dataclasses.replace(p, ref=p.ref.partition(":")[0]))
