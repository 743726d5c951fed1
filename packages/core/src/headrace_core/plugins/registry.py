"""Typed registries handed to plugin hooks. They validate, refuse duplicates, record provenance."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from headrace_core.artifacts import Artifact
from headrace_core.component import BaseComponent
from headrace_core.errors import ComponentDefinitionError, DuplicateRegistrationError

__all__ = [
    "ArtifactTypeRegistry",
    "CommandRegistry",
    "CommandSpec",
    "ComponentRegistry",
    "Entry",
    "OrchestratorRegistry",
    "OrchestratorSpec",
    "Provenance",
    "Registry",
    "ViewerRegistry",
    "ViewerSpec",
]

T = TypeVar("T")

_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_COMMAND = re.compile(r"^[a-z][a-z0-9\-]*$")


@dataclass(frozen=True)
class Provenance:
    """Who registered an entry: the plugin's name and its distribution."""

    plugin: str
    distribution: str
    version: str


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    value: T
    provenance: Provenance


class Registry(Generic[T]):
    """Name -> value, stamped with the plugin that registered it.

    Filled lazily: the manager sets ``_resolve``, which loads the plugins not loaded yet and
    says whether it did. A name missing from what is loaded, and every listing, calls it first,
    so answers are those of a registry filled by every plugin."""

    kind = "entry"

    def __init__(self) -> None:
        self._entries: dict[str, Entry[T]] = {}
        self._current: Provenance | None = None
        self._resolve: Callable[[], bool] | None = None

    def _lookup(self, name: str) -> Entry[T] | None:
        entry = self._entries.get(name)
        if entry is None and self._resolve is not None and self._resolve():
            entry = self._entries.get(name)
        return entry

    def _complete(self) -> dict[str, Entry[T]]:
        if self._resolve is not None:
            self._resolve()
        return self._entries

    def _register(self, name: str, value: T) -> None:
        if self._current is None:
            raise RuntimeError(f"{self.kind}s can only be registered from a plugin hook")
        existing = self._entries.get(name)
        if existing is not None:
            if existing.value is value and existing.provenance == self._current:
                return
            raise DuplicateRegistrationError(
                f"{self.kind} {name!r} is registered twice: by {existing.provenance.distribution} "
                f"(plugin {existing.provenance.plugin!r}) and by {self._current.distribution} "
                f"(plugin {self._current.plugin!r})"
            )
        self._entries[name] = Entry(name, value, self._current)

    def get(self, name: str) -> T:
        entry = self._lookup(name)
        if entry is None:
            raise KeyError(
                f"no {self.kind} named {name!r}; registered: {', '.join(sorted(self._entries))}"
            )
        return entry.value

    def entry(self, name: str) -> Entry[T]:
        entry = self._lookup(name)
        if entry is None:
            raise KeyError(name)
        return entry

    def loaded(self) -> dict[str, Entry[T]]:
        """What the plugins loaded so far registered, loading no more."""
        return dict(self._entries)

    def entries(self) -> list[Entry[T]]:
        return sorted(self._complete().values(), key=lambda e: e.name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._complete()))

    def __len__(self) -> int:
        return len(self._complete())

    def _remove_from(self, provenance: Provenance) -> None:
        for name in [n for n, e in self._entries.items() if e.provenance == provenance]:
            del self._entries[name]


class ArtifactTypeRegistry(Registry[type[Artifact]]):
    kind = "artifact type"

    def add(self, artifact_type: type[Artifact]) -> None:
        if not (isinstance(artifact_type, type) and issubclass(artifact_type, Artifact)):
            raise TypeError(f"expected an Artifact subclass, got {artifact_type!r}")
        name = artifact_type.TYPE_NAME
        if not (isinstance(name, str) and _NAME.match(name)):
            raise TypeError(f"artifact type {artifact_type.__qualname__} has no valid TYPE_NAME")
        self._register(name, artifact_type)


class ComponentRegistry(Registry[type[BaseComponent]]):
    kind = "component"

    def add(self, component: type[BaseComponent]) -> None:
        if not (isinstance(component, type) and issubclass(component, BaseComponent)):
            raise TypeError(f"expected a BaseComponent subclass, got {component!r}")
        try:
            component.check_definition()
        except ComponentDefinitionError as e:
            raise TypeError(str(e)) from None
        self._register(component.__name__, component)

    def find(self, component: type[BaseComponent]) -> Entry[type[BaseComponent]] | None:
        entry = self._lookup(component.__name__)
        return entry if entry is not None and entry.value is component else None


@dataclass(frozen=True)
class OrchestratorSpec:
    """How to run a pipeline on an orchestrator, or compile it for one (or both).

    ``runner`` names a class built as ``Runner(metadata_url=..., on_event=...,
    options=[...])`` whose ``run(document, run_id=None)`` returns a ``RunResult``
    (``headrace run --orchestrator NAME``). ``compiler`` names a function
    ``compile(document, options={...}) -> str`` returning the text of the file the
    orchestrator loads (``headrace compile --target NAME -o FILE`` writes it atomically); it
    raises ``HeadraceError`` for an unknown or bad option. Both receive only the portable IR.
    """

    name: str
    runner: str | None
    description: str = ""
    compiler: str | None = None


class OrchestratorRegistry(Registry[OrchestratorSpec]):
    kind = "orchestrator"

    def add(
        self,
        name: str,
        *,
        runner: str | None = None,
        compiler: str | None = None,
        description: str = "",
    ) -> None:
        if not (isinstance(name, str) and _NAME.match(name)):
            raise TypeError(f"invalid orchestrator name {name!r}")
        if runner is None and compiler is None:
            raise TypeError(f"orchestrator {name!r}: give a runner, a compiler or both")
        for label, ref in (("runner", runner), ("compiler", compiler)):
            if ref is not None and not (isinstance(ref, str) and _REF.match(ref)):
                raise TypeError(f"orchestrator {name!r}: {label} must be a 'module:attr' string")
        self._register(name, OrchestratorSpec(name, runner, description, compiler))


@dataclass(frozen=True)
class ViewerSpec:
    artifact_type: str
    viewer: str
    #: ``headrace run`` ends with this viewer's ``headline`` for each such artifact a run
    #: produced or reused (a model's accuracy, a blessing, where a model was pushed).
    run_summary: bool = False


class ViewerRegistry(Registry[ViewerSpec]):
    """Artifact type name -> ``"module:function"`` that summarizes such an artifact."""

    kind = "viewer"

    def add(self, artifact_type: str, *, viewer: str, run_summary: bool = False) -> None:
        if not (isinstance(artifact_type, str) and _NAME.match(artifact_type)):
            raise TypeError(f"invalid artifact type name {artifact_type!r}")
        if not (isinstance(viewer, str) and _REF.match(viewer)):
            raise TypeError(f"viewer for {artifact_type!r} must be a 'module:function' string")
        self._register(artifact_type, ViewerSpec(artifact_type, viewer, bool(run_summary)))


@dataclass(frozen=True)
class CommandSpec:
    """A ``headrace NAME`` subcommand from a plugin.

    ``arguments`` names a function ``add_arguments(parser)`` that adds the command's options
    to its ``argparse`` subparser; ``run`` a function ``run(args) -> int`` (the exit status)
    that may raise ``HeadraceError`` for a one-line error. Both are imported only when the
    command line needs them."""

    name: str
    run: str
    arguments: str | None = None
    description: str = ""


class CommandRegistry(Registry[CommandSpec]):
    kind = "command"

    def add(
        self, name: str, *, run: str, arguments: str | None = None, description: str = ""
    ) -> None:
        if not (isinstance(name, str) and _COMMAND.match(name)):
            raise TypeError(f"invalid command name {name!r} (lower-case letters, digits, '-')")
        for label, ref in (("run", run), ("arguments", arguments)):
            if (ref is not None or label == "run") and not (
                isinstance(ref, str) and _REF.match(ref)
            ):
                raise TypeError(f"command {name!r}: {label} must be a 'module:function' string")
        self._register(name, CommandSpec(name, run, arguments, str(description)))
