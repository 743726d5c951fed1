"""Test kit for headrace and for component authors.

``pytest`` loads :mod:`headrace_core.testing.plugin` automatically (entry point ``pytest11``),
which provides the ``pipeline_root``, ``metadata_url``, ``metadata_store``, ``mysql_url``,
``plugin_manager``, ``installed_plugins`` and ``test_data`` fixtures and the
``--metadata-backend=sqlite|mariadb`` option (:func:`store_url` is the store a test's runs
use); :func:`store_problems` and :func:`assert_store_consistent` check the invariants every
run, killed or not, must keep; :mod:`headrace_core.testing.helpers` has the
same as functions (``test_data_dir``, ``require_test_data``, ``show_artifact``). The
conformance checks below let every component package test itself against its own specs::

    from headrace_core.testing import check_distribution

    def test_conformance():
        check_distribution("headrace-examplegen")
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable

from headrace_core.artifacts import Artifact
from headrace_core.component import BaseComponent, ComponentSpec
from headrace_core.executor import BaseExecutor, import_ref, load_executor_class
from headrace_core.plugins.manager import PluginManager, get_plugin_manager
from headrace_core.testing._invariants import (
    assert_store_consistent,
    store_problems,
)
from headrace_core.testing._stores import (
    ENV_REQUIRE_MYSQL,
    ENV_TEST_BACKEND,
    ENV_TEST_MYSQL,
    mysql_required,
    mysql_unavailable,
    new_mysql_database_url,
    store_url,
)
from headrace_core.testing.helpers import (
    apply_executor_env,
    ignore_warnings,
    importable,
    require_test_data,
    show_artifact,
    test_data_dir,
    tfx_message_class,
)

__all__ = [
    "ENV_REQUIRE_MYSQL",
    "ENV_TEST_BACKEND",
    "ENV_TEST_MYSQL",
    "HEAVY_MODULES",
    "ConformanceError",
    "apply_executor_env",
    "assert_store_consistent",
    "check_artifact_type",
    "check_component",
    "check_distribution",
    "ignore_warnings",
    "imported_heavy_modules",
    "importable",
    "mysql_required",
    "mysql_unavailable",
    "new_mysql_database_url",
    "require_test_data",
    "show_artifact",
    "store_problems",
    "store_url",
    "test_data_dir",
    "tfx_message_class",
]

#: Modules that the core, plugin loading and pipeline compilation must never import.
HEAVY_MODULES = (
    "tensorflow",
    "apache_beam",
    "tfx_bsl",
    "tensorflow_data_validation",
    "tensorflow_transform",
    "tensorflow_model_analysis",
)


class ConformanceError(AssertionError):
    """A component or artifact type breaks the headrace contract."""


def check_artifact_type(
    artifact_type: type[Artifact], plugins: PluginManager | None = None
) -> None:
    """The type is registered under its TYPE_NAME, instantiable, and round-trips through JSON."""
    manager = plugins or get_plugin_manager()
    name = getattr(artifact_type, "TYPE_NAME", "")
    if not name:
        raise ConformanceError(f"{artifact_type.__qualname__} has no TYPE_NAME")
    if name not in manager.artifact_types or manager.artifact_types.get(name) is not artifact_type:
        raise ConformanceError(f"artifact type {name!r} is not registered by any plugin")
    instance = artifact_type("/tmp/x")
    back = type(instance).from_json_dict(instance.to_json_dict())
    if back.to_json_dict() != instance.to_json_dict():
        raise ConformanceError(f"artifact type {name!r} does not round-trip through JSON")


def check_component(
    component: type[BaseComponent],
    plugins: PluginManager | None = None,
    *,
    import_executor: bool = True,
) -> None:
    """The component's spec is well formed, its artifact types are registered, its executor
    reference resolves to a ``BaseExecutor`` with ``Do``."""
    manager = plugins or get_plugin_manager()
    try:
        component.check_definition()
    except Exception as e:
        raise ConformanceError(f"{component.__qualname__}: {e}") from e
    spec: type[ComponentSpec] = component.SPEC_CLASS
    for section, channels in (("INPUTS", spec.INPUTS), ("OUTPUTS", spec.OUTPUTS)):
        for key, channel in channels.items():
            name = channel.type.TYPE_NAME
            registered = (
                manager.artifact_types.get(name) if name in manager.artifact_types else None
            )
            if registered is not channel.type:
                raise ConformanceError(
                    f"{component.__qualname__}.{section}[{key!r}] uses artifact type {name!r}, "
                    "which no plugin registers"
                )
    if not spec.OUTPUTS:
        raise ConformanceError(f"{component.__qualname__} declares no outputs")
    if import_executor:
        ref = component.executor_ref()
        try:
            executor = load_executor_class(ref)
        except Exception as e:
            raise ConformanceError(f"{component.__qualname__}: executor {ref!r}: {e}") from e
        if not issubclass(executor, BaseExecutor):
            raise ConformanceError(
                f"{component.__qualname__}: executor {ref!r} is not a BaseExecutor subclass"
            )


def check_distribution(
    distribution: str, *, import_executors: bool = True, light_imports: bool = True
) -> list[str]:
    """Run every check on what ``distribution`` registers; return the names checked.

    With ``light_imports``, also check in a fresh interpreter that loading the plugins and
    importing the distribution's component classes imports none of :data:`HEAVY_MODULES`.
    """
    manager = get_plugin_manager()
    for error in manager.errors:
        if error.distribution == distribution:
            raise ConformanceError(str(error))
    checked: list[str] = []
    for entry in manager.artifact_types.entries():
        if entry.provenance.distribution == distribution:
            check_artifact_type(entry.value, manager)
            checked.append(entry.name)
    modules = []
    for component_entry in manager.components.entries():
        if component_entry.provenance.distribution == distribution:
            check_component(component_entry.value, manager, import_executor=import_executors)
            checked.append(component_entry.name)
            modules.append(component_entry.value.__module__)
    for orchestrator in manager.orchestrators.entries():
        if orchestrator.provenance.distribution == distribution:
            spec = orchestrator.value
            for role, ref in (("runner", spec.runner), ("compiler", spec.compiler)):
                if ref is not None and import_executors:
                    try:
                        target = import_ref(ref)
                    except Exception as e:
                        raise ConformanceError(
                            f"orchestrator {spec.name!r}: cannot import its {role} {ref}: {e}"
                        ) from e
                    if not callable(target):
                        raise ConformanceError(
                            f"orchestrator {spec.name!r}: {role} {ref} is not callable"
                        )
            checked.append(orchestrator.name)
    if not checked:
        raise ConformanceError(f"distribution {distribution!r} registers nothing")
    if light_imports:
        heavy = imported_heavy_modules(modules)
        if heavy:
            raise ConformanceError(
                f"loading plugins and importing {distribution}'s components imports {heavy}"
            )
    return checked


def imported_heavy_modules(modules: Iterable[str] = (), code: str = "") -> list[str]:
    """Which of :data:`HEAVY_MODULES` a fresh interpreter has imported after loading every
    plugin, importing ``modules`` and running ``code``."""
    script = "\n".join(
        [
            "import importlib, json, sys",
            "from headrace_core.plugins import get_plugin_manager",
            "get_plugin_manager()",
            *[f"importlib.import_module({m!r})" for m in modules],
            code,
            f"heavy = {list(HEAVY_MODULES)!r}",
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))",
        ]
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise ConformanceError(f"import check failed:\n{out.stderr.strip()}")
    found: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return sorted({m.split(".")[0] for m in found})
