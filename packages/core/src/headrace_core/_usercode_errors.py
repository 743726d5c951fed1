"""The errors of :mod:`headrace_core.usercode`: what went wrong, and its wording.

A component passes its own :class:`UserCodeError` subclass so its users see its class, and
may override :meth:`UserCodeError.describe` to keep its own wording of a :class:`Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass

from headrace_core.errors import HeadraceError

__all__ = ["Problem", "UserCodeError"]


@dataclass(frozen=True)
class Problem:
    """What went wrong loading user code, for an error class to word (see ``describe``)."""

    kind: str  # missing, import, not_importable, bad_path, no_function, not_callable
    component: str
    where: str  # "module_file /abs/file.py" or "module 'pkg.mod' (/abs/pkg/mod.py)"
    function: str
    signature: str = ""
    ref: str = ""  # the dotted path as given, for module_path loads
    parameter: str = ""  # the parameter that held it ("run_fn", "preprocessing_fn")
    defined: tuple[str, ...] = ()
    detail: str = ""  # "ModuleNotFoundError: No module named 'x'", the found type, ...


class UserCodeError(HeadraceError, ImportError):
    """User code cannot be loaded: a missing file, a failing import, no such function."""

    problem: Problem | None = None

    @classmethod
    def describe(cls, p: Problem) -> str:
        """The message for ``p``; components override it to keep their own wording."""
        fn = f"{p.function}{p.signature}"
        head = f"{p.component}: {p.parameter} {p.ref!r}: " if p.ref else f"{p.component}: "
        if p.kind == "missing":
            return f"{p.component}: {p.where} does not exist (it should define {fn})"
        if p.kind == "bad_path":
            return f"{p.component}: {p.parameter} {p.ref!r} is not 'package.module.function'"
        if p.kind == "not_importable":
            return (
                f"{head}{p.where} is not importable ({p.detail}; is it installed, or on sys.path?)"
            )
        if p.kind == "import" and p.ref:
            return f"{head}{p.where} failed to import: {p.detail}"
        if p.kind == "import":
            return f"{head}{p.where} failed to import, so {p.function} cannot be loaded: {p.detail}"
        if p.kind == "no_function":
            also = f"; it defines {', '.join(p.defined)}" if p.defined else ""
            return f"{p.component}: {p.where} defines no function {fn}{also}"
        return f"{p.component}: {p.function} in {p.where} is a {p.detail}, not a function"

    @classmethod
    def of(cls, problem: Problem) -> UserCodeError:
        error = cls(cls.describe(problem))
        error.problem = problem
        return error
