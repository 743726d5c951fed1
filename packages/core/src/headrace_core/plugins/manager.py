"""Loads plugins and fills the registries.

Plugins come from the ``headrace`` entry-point group. Each is imported and registered on its
own: one that fails is recorded as a :class:`PluginLoadError` naming its distribution and the
cause, and everything else keeps working.

Entry points are loaded when first needed, not when the manager is made: a pipeline of function
components, or a run of an IR that uses only the core's artifact types, imports no plugin
module. The core's own plugin is registered at once; the first lookup of a name it does not
register, any listing (iterating a registry, :meth:`PluginManager.plugins`,
:attr:`PluginManager.errors`) and :meth:`PluginManager.provider_of` for a class that a plugin
could have registered load every entry point, in the order an eager load would use, so every
answer is the one a manager with all plugins loaded gives. ``provider_of`` treats a class as
nobody's, without loading anything, when its module is outside site-packages and outside the
top-level package of every plugin's entry point (a pipeline's own module).

Environment:

- ``HEADRACE_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points (the core's own types remain).
- ``HEADRACE_PLUGINS=name,dist,...``: load only these entry points or distributions.
- ``HEADRACE_TRACE_PLUGINS=1``: print each plugin load and hook call to stderr.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from headrace_core.__about__ import __version__
from headrace_core.errors import PluginLoadError
from headrace_core.plugins import spec
from headrace_core.plugins.registry import (
    ArtifactTypeRegistry,
    CommandRegistry,
    ComponentRegistry,
    OrchestratorRegistry,
    Provenance,
    Registry,
    ViewerRegistry,
)

__all__ = [
    "ENV_ALLOW",
    "ENV_DISABLE_AUTOLOAD",
    "ENV_TRACE",
    "PluginInfo",
    "PluginManager",
    "get_plugin_manager",
    "reset_plugin_manager",
]

ENTRY_POINT_GROUP = "headrace"
ENV_DISABLE_AUTOLOAD = "HEADRACE_DISABLE_PLUGIN_AUTOLOAD"
ENV_ALLOW = "HEADRACE_PLUGINS"
ENV_TRACE = "HEADRACE_TRACE_PLUGINS"

# Artifact types first: component checks may look them up.
_HOOK_ORDER = (
    ("headrace_register_artifact_types", "artifact_types"),
    ("headrace_register_components", "components"),
    ("headrace_register_orchestrators", "orchestrators"),
    ("headrace_register_viewers", "viewers"),
    ("headrace_register_commands", "commands"),
)


#: Modules loaded from pipeline files (``headrace run FILE``): what they define is the
#: user's, never a plugin's. (A module beside one may still be a plugin's.)
PIPELINE_MODULES: set[str] = set()


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    builtin: bool


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


class PluginManager:
    """The registries, filled by the built-in plugin and every plugin that loads."""

    def __init__(
        self,
        *,
        autoload: bool | None = None,
        allow: Iterable[str] | None = None,
        plugins: Sequence[tuple[str, Any, str]] = (),
        trace: bool | None = None,
    ) -> None:
        """``plugins``: extra ``(name, object, distribution)`` triples, for tests and embedding."""
        self._pm = pluggy.PluginManager(spec.PROJECT_NAME)
        self._pm.add_hookspecs(spec)
        self.artifact_types = ArtifactTypeRegistry()
        self.components = ComponentRegistry()
        self.orchestrators = OrchestratorRegistry()
        self.viewers = ViewerRegistry()
        self.commands = CommandRegistry()
        self._errors: list[PluginLoadError] = []
        self._provenance: dict[str, Provenance] = {}
        self._builtin: set[str] = set()
        self._trace = _truthy(os.environ.get(ENV_TRACE)) if trace is None else trace
        self._lock = threading.RLock()
        self._pending: list[Any] | None = None  # entry points to load, once scanned

        from headrace_core.plugins import builtin

        self._add(
            "headrace-core", builtin, Provenance("headrace-core", "headrace-core", __version__)
        )
        self._builtin.add("headrace-core")
        if autoload is None:
            autoload = not _truthy(os.environ.get(ENV_DISABLE_AUTOLOAD))
        if allow is None and os.environ.get(ENV_ALLOW):
            allow = [a for a in os.environ[ENV_ALLOW].split(",") if a.strip()]
        self._allow = {_normalize(a) for a in allow} if allow is not None else None
        # "deferred": entry points not loaded yet; "loading"; "done" (or none to load).
        self._state = "deferred" if autoload else "done"
        if autoload and plugins:
            # Explicit plugins (tests, embedding) are ordered among the entry points by name,
            # as always: load everything now.
            self._load_entry_points()
            self._state = "done"
        for name, obj, distribution in plugins:
            self._add(name, obj, Provenance(name, distribution, "0"))
        self._run_hooks(set(self._provenance))
        if self._state == "deferred":
            for registry in self._registries():
                registry._resolve = self._load_all

    # Loading -------------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self._trace:
            print(f"headrace plugins: {message}", file=sys.stderr)

    def _entry_points(self) -> list[Any]:
        """The entry points to load (allowed, each (distribution, name) once), scanned once."""
        with self._lock:
            if self._pending is None:
                self._pending = []
                seen: set[tuple[str, str]] = set()
                for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                    dist_name, _ = _distribution(ep)
                    key = (_normalize(dist_name), ep.name)
                    if key in seen:
                        continue
                    seen.add(key)
                    allowed = self._allow
                    if allowed is not None and not (
                        {_normalize(ep.name), _normalize(dist_name)} & allowed
                    ):
                        self._say(f"skipping {ep.name!r} from {dist_name} (not in {ENV_ALLOW})")
                        continue
                    self._pending.append(ep)
            return self._pending

    def _load_entry_points(self) -> list[str]:
        """Import and add every pending entry point; the names of the plugins added."""
        added = []
        entry_points, self._pending = self._entry_points(), []
        for ep in entry_points:
            dist_name, version = _distribution(ep)
            provenance = Provenance(ep.name, dist_name, version)
            try:
                obj = ep.load()
            except (Exception, SystemExit) as e:  # a broken plugin must not take the others down
                self._fail(provenance, e, "import")
                continue
            if self._add(ep.name, obj, provenance):
                added.append(ep.name)
        return added

    def _load_all(self) -> bool:
        """Load the entry points not loaded yet. True when the registries may have changed
        since the caller looked (look again); False when all was loaded already, or in a call
        from a plugin hook during the load (it sees what an eager load would show it)."""
        if self._state == "done":
            return False
        with self._lock:  # another thread's lookup waits here until the load is complete
            if self._state == "loading":  # the loading thread itself (the lock is reentrant)
                return False
            if self._state == "done":
                return True
            self._state = "loading"
            try:
                self._run_hooks(set(self._load_entry_points()))
            finally:
                self._state = "done"
            return True

    def _could_provide(self, cls: type) -> bool:
        """Whether a plugin could have registered ``cls``: its module is installed (in
        site-packages) or in the top-level package of a plugin's entry point; never a class
        of a pipeline file itself (no need to scan the entry points for that)."""
        if cls.__module__ in PIPELINE_MODULES:
            return False
        file = getattr(sys.modules.get(cls.__module__), "__file__", None)
        if not file:
            return True
        path = os.path.realpath(file)
        if any(path.startswith(d + os.sep) for d in _site_packages()):
            return True
        top = cls.__module__.partition(".")[0]
        return any(
            str(getattr(ep, "value", "")).partition(".")[0].partition(":")[0] == top
            for ep in self._entry_points()
        )

    def _add(self, name: str, obj: Any, provenance: Provenance) -> bool:
        if name in self._provenance:
            other = self._provenance[name]
            self._fail(
                provenance,
                ValueError(f"a plugin named {name!r} is already loaded from {other.distribution}"),
                "register",
            )
            return False
        try:
            self._pm.register(obj, name=name)
            unknown = [c.name for c in self._pm.get_hookcallers(obj) or [] if not c.has_spec()]
            if unknown:
                self._pm.unregister(obj)
                raise ValueError(
                    f"implements unknown hook(s) {', '.join(sorted(unknown))}; "
                    f"known: {', '.join(n for n, _ in _HOOK_ORDER)}"
                )
        except (Exception, SystemExit) as e:
            self._fail(provenance, e, "register")
            return False
        self._provenance[name] = provenance
        self._say(f"loaded {name!r} from {provenance.distribution} {provenance.version}")
        return True

    def _fail(self, provenance: Provenance, cause: BaseException, stage: str) -> None:
        error = PluginLoadError(provenance.plugin, provenance.distribution, cause, stage)
        self._errors.append(error)
        self._say(str(error))

    def _registries(self) -> list[Registry[Any]]:
        return [
            self.artifact_types,
            self.components,
            self.orchestrators,
            self.viewers,
            self.commands,
        ]

    def _run_hooks(self, plugins: set[str]) -> None:
        """Call the hooks of ``plugins`` (the plugins just added), in eager order: hook by
        hook, built-ins first, then by name."""
        failed: set[str] = set()
        for hook_name, attr in _HOOK_ORDER:
            registry: Registry[Any] = getattr(self, attr)
            caller = getattr(self._pm.hook, hook_name)
            # Call each implementation on its own, so provenance is exact and a failure is
            # confined to the plugin that raised.
            for impl in sorted(caller.get_hookimpls(), key=lambda i: self._order(i.plugin_name)):
                plugin = impl.plugin_name
                if plugin in failed or plugin not in plugins:
                    continue
                provenance = self._provenance[plugin]
                registry._current = provenance
                try:
                    impl.function(**{arg: registry for arg in impl.argnames})
                except (Exception, SystemExit) as e:
                    failed.add(plugin)
                    for r in self._registries():
                        r._remove_from(provenance)
                    self._fail(provenance, e, f"register ({hook_name})")
                else:
                    self._say(f"{plugin}: {hook_name} done")
                finally:
                    registry._current = None

    def _order(self, plugin: str) -> tuple[int, str]:
        # Built-ins first, then plugins by name, so duplicate errors blame the newcomer.
        return (0 if plugin in self._builtin else 1, plugin)

    # Queries -------------------------------------------------------------------------------

    @property
    def errors(self) -> list[PluginLoadError]:
        """Every plugin that failed to load or register (loads all entry points first)."""
        self._load_all()
        return self._errors

    @property
    def loaded_errors(self) -> list[PluginLoadError]:
        """The errors of the plugins loaded so far, loading no more: for a command that warns
        about broken plugins without importing those it never needed (any lookup a plugin not
        yet loaded could answer loads it, and records its error)."""
        return list(self._errors)

    def plugins(self) -> list[PluginInfo]:
        self._load_all()
        infos = []
        failed = {(e.plugin, e.distribution) for e in self._errors}
        for name, provenance in self._provenance.items():
            obj = self._pm.get_plugin(name)
            if obj is None or (name, provenance.distribution) in failed:
                continue
            hooks = tuple(sorted(c.name for c in self._pm.get_hookcallers(obj) or []))
            infos.append(
                PluginInfo(
                    name,
                    provenance.distribution,
                    provenance.version,
                    hooks,
                    name in self._builtin,
                )
            )
        return sorted(infos, key=lambda p: (not p.builtin, p.name))

    def provider_of(self, component: type) -> Provenance | None:
        """The distribution that registered ``component``, if any plugin did."""
        if not isinstance(component, type):
            return None
        entry = self.components._entries.get(component.__name__)
        if entry is None and self._state != "done" and self._could_provide(component):
            self._load_all()
            entry = self.components._entries.get(component.__name__)
        return entry.provenance if entry is not None and entry.value is component else None


def _distribution(ep: Any) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown", "unknown"
    return dist.metadata["Name"], dist.version


_SITE_PACKAGES: tuple[str, ...] | None = None


def _site_packages() -> tuple[str, ...]:
    global _SITE_PACKAGES
    if _SITE_PACKAGES is None:
        paths = sysconfig.get_paths()
        _SITE_PACKAGES = tuple(
            {os.path.realpath(paths[k]) for k in ("purelib", "platlib") if paths.get(k)}
        )
    return _SITE_PACKAGES


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _manager
    if _manager is None:
        _manager = PluginManager()
    return _manager


def reset_plugin_manager(manager: PluginManager | None = None) -> None:
    """Replace (or drop, to reload lazily) the process-wide manager; for tests and embedding."""
    global _manager
    _manager = manager
