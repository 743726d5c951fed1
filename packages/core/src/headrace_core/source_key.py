"""The code of one definition in a user's module file, for the cache key.

A pipeline file often defines several function components. Hashing the whole file would re-run
all of them when one changes, or when a comment moves. Instead a definition's key covers what
running it can reach in that file, found without executing the file:

* its own statement (``def``/``class`` with decorators, defaults and annotations), as the
  syntax tree sees it: comments, blank lines and positions in the file do not count;
* every module-level statement that binds a global name it reads, transitively (helpers,
  constants, classes, one alias of an import statement at a time), found with :mod:`symtable`
  so a local variable that happens to share a global's name is not mistaken for it;
* module-level statements that bind no name (``random.seed(0)``, ``os.environ[...] = ...``,
  star imports) and ``from __future__`` imports: they run on import, so they count for every
  definition; ``if __name__ == "__main__":`` does not run when a node imports the file;
* whole files of local modules it imports, at module level or inside its body, that sit
  beside the file (``helpers.py``, or every ``.py`` of a package folder ``helpers/``), and
  in turn the local modules those import.

Digests depend on the Python version's syntax tree, so an interpreter upgrade changes them
(the code is then compiled by a different compiler anyway).
"""

from __future__ import annotations

import ast
import hashlib
import os
import symtable
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["MODULE_CODE", "definition_digests"]

#: The label of the statements every definition's key includes.
MODULE_CODE = "(module code)"


def _hash(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class _Unit:
    """One module-level statement, or one alias of a module-level import statement."""

    label: str
    binds: frozenset[str]
    reads: frozenset[str]
    imports: tuple[str, ...]  # absolute module names it may import (first component matters)
    always: bool
    digest: str


def _dump(node: ast.AST) -> str:
    return ast.dump(node, annotate_fields=True, include_attributes=False)


def _is_main_guard(stmt: ast.stmt) -> bool:
    test = stmt.test if isinstance(stmt, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _scope_globals(table: symtable.SymbolTable) -> tuple[set[str], set[str]]:
    """Globals a function or class body (and what nests in it) reads, and those it assigns
    through a ``global`` statement."""
    reads: set[str] = set()
    assigns: set[str] = set()
    for sym in table.get_symbols():
        if sym.is_global():
            reads.add(sym.get_name())
            if sym.is_declared_global() and sym.is_assigned():
                assigns.add(sym.get_name())
    for child in table.get_children():
        r, a = _scope_globals(child)
        reads |= r
        assigns |= a
    return reads, assigns


class _Scanner(ast.NodeVisitor):
    """Module-scope names a statement binds and reads; nested bodies through their tables."""

    def __init__(self, tables: dict[tuple[str, int], symtable.SymbolTable]) -> None:
        self.tables = tables
        self.binds: set[str] = set()
        self.reads: set[str] = set()
        self.side_effects = False

    def _target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.binds.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._target(element)
        elif isinstance(target, ast.Starred):
            self._target(target.value)
        else:
            # x.attr = ..., x[k] = ...: mutates something, possibly outside this file.
            self.side_effects = True
            self.visit(target)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.reads.add(node.id)
        else:
            self.binds.add(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._target(target)
        self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._target(node.target)
        if isinstance(node.target, ast.Name):
            self.reads.add(node.target.id)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._target(node.target)
        self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._target(node.target)
        self.visit(node.value)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.binds.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.side_effects = True
            else:
                self.binds.add(alias.asname or alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.binds.add(node.name)
        self.generic_visit(node)

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.binds.add(node.name)
        # Decorators, defaults, annotations and bases are evaluated in the module's scope.
        for expr in node.decorator_list:
            self.visit(expr)
        if isinstance(node, ast.ClassDef):
            for expr in [*node.bases, *(k.value for k in node.keywords)]:
                self.visit(expr)
        else:
            args = node.args
            for expr in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
                self.visit(expr)
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    self.visit(arg.annotation)
            if node.returns is not None:
                self.visit(node.returns)
        table = self.tables.get((node.name, node.lineno))
        if table is None:
            # Not matched to its scope: count every name in the body (more, never fewer).
            for stmt in node.body:
                self.visit(stmt)
            return
        reads, assigns = _scope_globals(table)
        self.reads |= reads
        self.binds |= assigns

    visit_FunctionDef = _definition  # noqa: N815
    visit_AsyncFunctionDef = _definition  # noqa: N815
    visit_ClassDef = _definition  # noqa: N815


def _imported_modules(node: ast.AST) -> tuple[str, ...]:
    """Absolute module names imported anywhere inside ``node`` (relative imports cannot reach
    a sibling of a file that is not in a package)."""
    found: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            found.extend(alias.name for alias in sub.names)
        elif isinstance(sub, ast.ImportFrom) and sub.level == 0 and sub.module:
            found.append(sub.module)
    return tuple(found)


def _units(tree: ast.Module, table: symtable.SymbolTable) -> list[_Unit]:
    tables = {(t.get_name(), t.get_lineno()): t for t in table.get_children()}
    units: list[_Unit] = []
    for index, stmt in enumerate(tree.body):
        if _is_main_guard(stmt):
            continue
        if (
            index == 0
            and isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            continue  # the module docstring
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            units.append(_Unit(MODULE_CODE, frozenset(), frozenset(), (), True, _hash(_dump(stmt))))
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)) and not any(
            a.name == "*" for a in stmt.names
        ):
            # One unit per alias: adding a name to a shared import line changes no one else.
            for alias in stmt.names:
                single = type(stmt)(**{**stmt.__dict__, "names": [alias]})
                scanner = _Scanner(tables)
                scanner.visit(single)
                units.append(
                    _Unit(
                        ",".join(sorted(scanner.binds)),
                        frozenset(scanner.binds),
                        frozenset(),
                        _imported_modules(single),
                        False,
                        _hash(_dump(single)),
                    )
                )
            continue
        scanner = _Scanner(tables)
        scanner.visit(stmt)
        always = scanner.side_effects or not scanner.binds
        units.append(
            _Unit(
                MODULE_CODE if always else ",".join(sorted(scanner.binds)),
                frozenset(scanner.binds),
                frozenset(scanner.reads),
                _imported_modules(stmt),
                always,
                _hash(_dump(stmt)),
            )
        )
    return units


@lru_cache(maxsize=256)
def _parse(path: str, content_digest: str) -> list[_Unit] | None:
    # Keyed by content, not modification time: an edit within one clock tick still counts.
    with open(path, "rb") as f:
        source = f.read()
    try:
        text = source.decode("utf-8")
        tree = ast.parse(text, filename=path)
        table = symtable.symtable(text, path, "exec")
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    return _units(tree, table)


def _file_hash(path: str) -> str:
    with open(path, "rb") as f:
        return _hash(f.read())


def _local_files(directory: str, module: str) -> list[str]:
    """The files of ``module`` if it is a local module beside the file: ``name.py`` or every
    ``.py`` file of a folder ``name/``."""
    top = module.split(".", maxsplit=1)[0]
    folder = os.path.join(directory, top)
    if os.path.isdir(folder):
        found: list[str] = []
        for here, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            found.extend(os.path.join(here, f) for f in sorted(files) if f.endswith(".py"))
        return found
    single = os.path.join(directory, top + ".py")
    return [single] if os.path.isfile(single) else []


def _local_closure(directory: str, own: str, modules: Iterable[str]) -> dict[str, str]:
    """Digests of the local files ``modules`` reach, by path relative to ``directory``."""
    found: dict[str, str] = {}
    pending = list(modules)
    seen: set[str] = set()
    while pending:
        module = pending.pop()
        top = module.split(".")[0]
        if top in seen:
            continue
        seen.add(top)
        for path in _local_files(directory, module):
            if os.path.abspath(path) == own:
                continue
            digest = _file_hash(path)
            found[os.path.relpath(path, directory)] = digest
            pending.extend(_file_imports(path, digest))
    return found


@lru_cache(maxsize=512)
def _file_imports(path: str, content_digest: str) -> tuple[str, ...]:
    """Every absolute import in a whole local module (its content is hashed whole too)."""
    try:
        with open(path, "rb") as f:
            return _imported_modules(ast.parse(f.read(), filename=path))
    except (OSError, SyntaxError, ValueError):
        return ()


def _closure(units: list[_Unit], roots: Iterable[str]) -> Iterator[_Unit] | None:
    by_name: dict[str, list[_Unit]] = {}
    for unit in units:
        for name in unit.binds:
            by_name.setdefault(name, []).append(unit)
    roots = list(roots)
    if any(root not in by_name for root in roots):
        return None
    included: set[int] = set()
    pending = [*roots, *(n for u in units if u.always for n in u.reads)]
    seen: set[str] = set()
    for index, unit in enumerate(units):
        if unit.always:
            included.add(index)
    positions = {id(u): i for i, u in enumerate(units)}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for unit in by_name.get(name, []):
            if positions[id(unit)] not in included:
                included.add(positions[id(unit)])
                pending.extend(unit.reads)
    return (units[i] for i in sorted(included))


def definition_digests(path: str, roots: Iterable[str]) -> dict[str, str] | None:
    """Digests of what the module-level names ``roots`` of the file at ``path`` depend on:
    one entry per group of module-level names (``"helper"``, ``"SCALE"``), ``MODULE_CODE``
    for statements every definition depends on, and one per local module file
    (``"helpers.py"``). None when the file does not parse or a root is not bound at module
    level (the caller then hashes the whole file)."""
    own = os.path.abspath(path)
    units = _parse(own, _file_hash(own))
    if units is None:
        return None
    chosen = _closure(units, roots)
    if chosen is None:
        return None
    grouped: dict[str, list[str]] = {}
    modules: list[str] = []
    for unit in chosen:
        grouped.setdefault(unit.label, []).append(unit.digest)
        modules.extend(unit.imports)
    digests = {label: _hash("\0".join(parts)) for label, parts in grouped.items()}
    digests.update(_local_closure(os.path.dirname(own), own, modules))
    return dict(sorted(digests.items()))
