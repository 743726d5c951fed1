"""The plugin system: registries, provenance, isolation of failures, entry points, env vars."""

from __future__ import annotations

import types
from typing import Any

import pytest
from hrcore_components import ExampleGen, Trainer, Vectors

from headrace_core import Artifact, BaseComponent, PluginLoadError
from headrace_core.artifacts import STANDARD_ARTIFACT_TYPES
from headrace_core.errors import DuplicateRegistrationError
from headrace_core.plugins import (
    ENV_ALLOW,
    ENV_DISABLE_AUTOLOAD,
    ENV_TRACE,
    ArtifactTypeRegistry,
    ComponentRegistry,
    OrchestratorRegistry,
    PluginManager,
    Provenance,
    get_plugin_manager,
    hookimpl,
    reset_plugin_manager,
)
from headrace_core.plugins import manager as manager_module


class Other(Artifact):
    TYPE_NAME = "HrcoreVectors"  # the same name as hrcore_components.Vectors


class Partial(Artifact):
    TYPE_NAME = "HrcorePartial"


class VectorsPlugin:
    @hookimpl
    def headrace_register_artifact_types(self, registry: ArtifactTypeRegistry) -> None:
        registry.add(Vectors)

    @hookimpl
    def headrace_register_components(self, registry: ComponentRegistry) -> None:
        registry.add(ExampleGen)
        registry.add(Trainer)

    @hookimpl
    def headrace_register_orchestrators(self, registry: OrchestratorRegistry) -> None:
        registry.add("hrcore-local", runner="hrcore_components:Runner", description="test")


class DuplicatePlugin:
    @hookimpl
    def headrace_register_artifact_types(self, registry: ArtifactTypeRegistry) -> None:
        registry.add(Other)


class RaisingPlugin:
    """Registers a type, then fails in a later hook: both registrations must go."""

    @hookimpl
    def headrace_register_artifact_types(self, registry: ArtifactTypeRegistry) -> None:
        registry.add(Partial)

    @hookimpl
    def headrace_register_components(self, registry: ComponentRegistry) -> None:
        raise RuntimeError("cannot find my model zoo")


class MisspelledPlugin:
    @hookimpl
    def headrace_register_component(self, registry: ComponentRegistry) -> None:
        raise AssertionError("never called")


class NoArgumentPlugin:
    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def headrace_register_orchestrators(self) -> None:
        self.calls += 1


def _manager(*plugins: tuple[str, Any, str]) -> PluginManager:
    return PluginManager(autoload=False, plugins=list(plugins))


# Registering --------------------------------------------------------------------------------


def test_standard_types_are_registered_by_headrace_core() -> None:
    manager = _manager()
    assert manager.errors == []
    assert sorted(manager.artifact_types) == sorted(t.TYPE_NAME for t in STANDARD_ARTIFACT_TYPES)
    for artifact_type in STANDARD_ARTIFACT_TYPES:
        entry = manager.artifact_types.entry(artifact_type.TYPE_NAME)
        assert entry.value is artifact_type
        assert entry.provenance.distribution == "headrace-core"
        assert entry.provenance.plugin == "headrace-core"
    (core,) = manager.plugins()
    assert (core.name, core.distribution, core.builtin) == ("headrace-core", "headrace-core", True)
    assert core.hooks == ("headrace_register_artifact_types", "headrace_register_orchestrators")
    assert len(manager.components) == 0
    assert list(manager.orchestrators) == ["local"]
    assert manager.orchestrators.get("local").runner == (
        "headrace_core.orchestration.local:LocalDagRunner"
    )


def test_plugin_registers_types_components_and_orchestrators() -> None:
    manager = _manager(("vectors", VectorsPlugin(), "hrcore-vectors"))
    assert manager.errors == []
    assert manager.artifact_types.get("HrcoreVectors") is Vectors
    assert manager.artifact_types.entry("HrcoreVectors").provenance == Provenance(
        "vectors", "hrcore-vectors", "0"
    )
    assert list(manager.components) == ["ExampleGen", "Trainer"]
    assert manager.components.get("Trainer") is Trainer
    assert manager.provider_of(Trainer) == Provenance("vectors", "hrcore-vectors", "0")
    assert manager.provider_of(BaseComponent) is None
    orchestrator = manager.orchestrators.get("hrcore-local")
    assert orchestrator.runner == "hrcore_components:Runner"
    names = [p.name for p in manager.plugins()]
    assert names == ["headrace-core", "vectors"]
    plugin = manager.plugins()[1]
    assert plugin.hooks == (
        "headrace_register_artifact_types",
        "headrace_register_components",
        "headrace_register_orchestrators",
    )
    assert plugin.builtin is False


def test_registry_lookup_errors_list_what_is_registered() -> None:
    manager = _manager()
    with pytest.raises(KeyError, match="no component named 'Trainer'; registered: "):
        manager.components.get("Trainer")
    with pytest.raises(KeyError, match="no artifact type named 'Nope'; registered: Boolean, "):
        manager.artifact_types.get("Nope")


def test_registries_refuse_registration_outside_a_hook() -> None:
    manager = _manager()
    with pytest.raises(RuntimeError, match="can only be registered from a plugin hook"):
        manager.artifact_types.add(Vectors)


def test_duplicate_name_is_refused_naming_both_distributions() -> None:
    manager = _manager(
        ("vectors", VectorsPlugin(), "hrcore-vectors"),
        ("zz-duplicate", DuplicatePlugin(), "hrcore-duplicate"),
    )
    (error,) = manager.errors
    assert isinstance(error, PluginLoadError)
    assert isinstance(error.cause, DuplicateRegistrationError)
    assert error.distribution == "hrcore-duplicate"
    assert error.plugin == "zz-duplicate"
    message = str(error)
    assert "artifact type 'HrcoreVectors' is registered twice" in message
    assert "hrcore-vectors" in message
    assert "hrcore-duplicate" in message
    # The first registration stands, and everything else keeps working.
    assert manager.artifact_types.get("HrcoreVectors") is Vectors
    assert manager.components.get("Trainer") is Trainer
    assert "Examples" in manager.artifact_types


def test_a_plugin_cannot_take_a_standard_type_name() -> None:
    class Impostor(Artifact):
        TYPE_NAME = "Examples"

    class ImpostorPlugin:
        @hookimpl
        def headrace_register_artifact_types(self, registry: ArtifactTypeRegistry) -> None:
            registry.add(Impostor)

    manager = _manager(("a-impostor", ImpostorPlugin(), "hrcore-impostor"))
    (error,) = manager.errors
    assert "by headrace-core (plugin 'headrace-core') and by hrcore-impostor" in str(error)
    assert manager.artifact_types.get("Examples").__module__ == "headrace_core.artifacts"


def test_a_raising_hook_is_reported_and_its_registrations_removed() -> None:
    manager = _manager(
        ("raising", RaisingPlugin(), "hrcore-raising"),
        ("vectors", VectorsPlugin(), "hrcore-vectors"),
    )
    (error,) = manager.errors
    assert error.distribution == "hrcore-raising"
    assert error.stage == "register (headrace_register_components)"
    assert str(error) == (
        "plugin 'raising' from distribution 'hrcore-raising' failed to register "
        "(headrace_register_components): RuntimeError: cannot find my model zoo"
    )
    assert "HrcorePartial" not in manager.artifact_types
    assert manager.artifact_types.get("HrcoreVectors") is Vectors
    assert "Trainer" in manager.components


def test_an_invalid_registration_fails_only_its_plugin() -> None:
    class NotAComponent:
        pass

    class BadComponentPlugin:
        @hookimpl
        def headrace_register_artifact_types(self, registry: ArtifactTypeRegistry) -> None:
            registry.add(Partial)

        @hookimpl
        def headrace_register_components(self, registry: ComponentRegistry) -> None:
            registry.add(NotAComponent)  # type: ignore[arg-type]

    class BadOrchestratorPlugin:
        @hookimpl
        def headrace_register_orchestrators(self, registry: OrchestratorRegistry) -> None:
            registry.add("beam", runner="not a reference")

    manager = _manager(
        ("bad-component", BadComponentPlugin(), "hrcore-bad-component"),
        ("bad-orchestrator", BadOrchestratorPlugin(), "hrcore-bad-orchestrator"),
        ("vectors", VectorsPlugin(), "hrcore-vectors"),
    )
    messages = sorted(str(e) for e in manager.errors)
    assert len(messages) == 2
    assert "hrcore-bad-component" in messages[0]
    assert "expected a BaseComponent subclass" in messages[0]
    assert "hrcore-bad-orchestrator" in messages[1]
    assert "runner must be a 'module:attr' string" in messages[1]
    assert "HrcorePartial" not in manager.artifact_types
    assert "beam" not in manager.orchestrators
    assert "hrcore-local" in manager.orchestrators


def test_a_misspelled_hook_is_reported() -> None:
    manager = _manager(
        ("misspelled", MisspelledPlugin(), "hrcore-misspelled"),
        ("vectors", VectorsPlugin(), "hrcore-vectors"),
    )
    (error,) = manager.errors
    assert error.distribution == "hrcore-misspelled"
    assert error.stage == "register"
    message = str(error)
    assert "implements unknown hook(s) headrace_register_component" in message
    assert "known: headrace_register_artifact_types, headrace_register_components" in message
    assert [p.name for p in manager.plugins()] == ["headrace-core", "vectors"]


def test_a_hook_with_an_unknown_argument_is_reported() -> None:
    class ExtraArgument:
        @hookimpl
        def headrace_register_components(self, registry: Any, session: Any) -> None:
            raise AssertionError("never called")

    manager = _manager(("extra", ExtraArgument(), "hrcore-extra"))
    (error,) = manager.errors
    assert error.distribution == "hrcore-extra"
    assert "session" in str(error)


def test_a_hook_may_take_a_subset_of_the_arguments() -> None:
    plugin = NoArgumentPlugin()
    manager = _manager(("no-args", plugin, "hrcore-no-args"))
    assert manager.errors == []
    assert plugin.calls == 1


def test_module_objects_are_plugins_too() -> None:
    module = types.ModuleType("hrcore_plugin_module")

    @hookimpl
    def headrace_register_artifact_types(registry: ArtifactTypeRegistry) -> None:
        registry.add(Vectors)

    module.headrace_register_artifact_types = headrace_register_artifact_types  # type: ignore[attr-defined]
    manager = _manager(("module", module, "hrcore-module"))
    assert manager.errors == []
    assert manager.artifact_types.entry("HrcoreVectors").provenance.distribution == "hrcore-module"


def test_two_plugins_with_one_name() -> None:
    manager = _manager(
        ("vectors", VectorsPlugin(), "hrcore-vectors"),
        ("vectors", DuplicatePlugin(), "hrcore-other"),
    )
    (error,) = manager.errors
    assert error.distribution == "hrcore-other"
    assert "a plugin named 'vectors' is already loaded from hrcore-vectors" in str(error)
    assert manager.artifact_types.get("HrcoreVectors") is Vectors


# Entry points and environment --------------------------------------------------------------


class _Dist:
    def __init__(self, name: str, version: str) -> None:
        self.metadata = {"Name": name}
        self.version = version


class _EntryPoint:
    def __init__(self, name: str, dist: str, obj: Any) -> None:
        self.name = name
        self.dist = _Dist(dist, "1.2.3")
        self._obj = obj

    def load(self) -> Any:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> list[_EntryPoint]:
    """Fake installed plugins: the manager reads these instead of the real entry points."""
    found = [
        _EntryPoint("vectors", "hrcore_vectors", VectorsPlugin()),
        _EntryPoint("broken", "hrcore-broken", ImportError("No module named 'tensorflow'")),
    ]

    def fake_entry_points(group: str) -> list[_EntryPoint]:
        assert group == "headrace"
        return found

    monkeypatch.setattr(
        manager_module, "metadata", types.SimpleNamespace(entry_points=fake_entry_points)
    )
    monkeypatch.delenv(ENV_DISABLE_AUTOLOAD, raising=False)
    return found


def test_entry_points_are_loaded_with_their_distribution(entry_points: list[Any]) -> None:
    manager = PluginManager()
    assert manager.artifact_types.entry("HrcoreVectors").provenance == Provenance(
        "vectors", "hrcore_vectors", "1.2.3"
    )
    (error,) = manager.errors
    assert (error.plugin, error.distribution, error.stage) == ("broken", "hrcore-broken", "import")
    assert str(error) == (
        "plugin 'broken' from distribution 'hrcore-broken' failed to import: "
        "ImportError: No module named 'tensorflow'"
    )


def test_disable_autoload_env(entry_points: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, "1")
    manager = PluginManager()
    assert manager.errors == []
    assert "HrcoreVectors" not in manager.artifact_types
    assert "Examples" in manager.artifact_types  # the core's own types remain
    # Explicit plugins still load; an explicit autoload=True wins over the variable.
    assert "HrcoreVectors" in PluginManager(plugins=[("v", VectorsPlugin(), "d")]).artifact_types
    assert "HrcoreVectors" in PluginManager(autoload=True).artifact_types


@pytest.mark.parametrize("value", ["true", "YES", " on "])
def test_disable_autoload_env_spellings(
    entry_points: list[Any], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, value)
    assert "HrcoreVectors" not in PluginManager().artifact_types


@pytest.mark.parametrize("value", ["0", "false", ""])
def test_autoload_stays_on_for_false_values(
    entry_points: list[Any], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, value)
    assert "HrcoreVectors" in PluginManager().artifact_types


@pytest.mark.parametrize(
    ("allow", "loaded", "failed"),
    [
        ("vectors", True, False),
        ("hrcore-vectors", True, False),  # the distribution, normalized
        ("HRCORE.VECTORS", True, False),
        ("broken", False, True),
        ("vectors, broken", True, True),
        ("somebody-else", False, False),
    ],
)
def test_plugins_env_selects_entry_points(
    entry_points: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    allow: str,
    loaded: bool,
    failed: bool,
) -> None:
    monkeypatch.setenv(ENV_ALLOW, allow)
    manager = PluginManager()
    assert ("HrcoreVectors" in manager.artifact_types) is loaded
    assert bool(manager.errors) is failed
    assert "Examples" in manager.artifact_types


def test_allow_argument_overrides_env(
    entry_points: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ALLOW, "broken")
    manager = PluginManager(allow=["vectors"])
    assert manager.errors == []
    assert "HrcoreVectors" in manager.artifact_types


def test_an_entry_point_seen_twice_loads_once(
    entry_points: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_points.append(_EntryPoint("vectors", "hrcore-vectors", VectorsPlugin()))
    monkeypatch.setenv(ENV_ALLOW, "vectors")
    manager = PluginManager()
    assert manager.errors == []
    assert [p.name for p in manager.plugins()] == ["headrace-core", "vectors"]


def test_trace_env_prints_loading(
    entry_points: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_TRACE, "1")
    monkeypatch.setenv(ENV_ALLOW, "vectors")
    PluginManager().plugins()  # entry points load when first needed
    err = capsys.readouterr().err
    assert "headrace plugins: loaded 'vectors' from hrcore_vectors 1.2.3" in err
    assert "skipping 'broken' from hrcore-broken" in err
    assert "vectors: headrace_register_artifact_types done" in err


def test_process_wide_manager(entry_points: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, "1")
    reset_plugin_manager()
    first = get_plugin_manager()
    assert get_plugin_manager() is first
    assert "HrcoreVectors" not in first.artifact_types
    custom = _manager(("vectors", VectorsPlugin(), "hrcore-vectors"))
    reset_plugin_manager(custom)
    assert get_plugin_manager() is custom
    reset_plugin_manager()
    assert get_plugin_manager() is not custom


def test_pytest_plugin_fixture(plugin_manager: PluginManager) -> None:
    """headrace-core's pytest plugin (entry point pytest11) provides a fresh manager."""
    assert plugin_manager is get_plugin_manager()
    assert "Examples" in plugin_manager.artifact_types


def test_pipeline_root_fixture(pipeline_root: Any) -> None:
    assert pipeline_root.is_dir()
    assert list(pipeline_root.iterdir()) == []


# Lazy loading --------------------------------------------------------------------------------


class _CountingEntryPoint(_EntryPoint):
    def __init__(self, name: str, dist: str, obj: Any, value: str) -> None:
        super().__init__(name, dist, obj)
        self.value = value
        self.loads = 0

    def load(self) -> Any:
        self.loads += 1
        return super().load()


@pytest.fixture
def counted(entry_points: list[Any]) -> list[_CountingEntryPoint]:
    entry_points[:] = [
        _CountingEntryPoint("vectors", "hrcore-vectors", VectorsPlugin(), "hrcore_components.p"),
        _CountingEntryPoint("broken", "hrcore-broken", ImportError("no tensorflow"), "broken.p"),
    ]
    return entry_points  # type: ignore[return-value]


def test_entry_points_load_only_when_a_lookup_needs_them(counted: list[Any]) -> None:
    manager = PluginManager()
    # The core's own names answer without loading any plugin module.
    assert "Examples" in manager.artifact_types
    assert manager.orchestrators.get("local").runner.endswith(":LocalDagRunner")
    assert [ep.loads for ep in counted] == [0, 0]
    assert manager.loaded_errors == []
    # A name the core does not register loads every entry point, once.
    assert manager.artifact_types.get("HrcoreVectors") is Vectors
    assert [e.plugin for e in manager.loaded_errors] == ["broken"]
    assert "nothing-by-this-name" not in manager.components
    assert [ep.loads for ep in counted] == [1, 1]
    assert [e.plugin for e in manager.errors] == ["broken"]


@pytest.mark.parametrize(
    "query",
    [
        lambda m: m.errors,
        lambda m: m.plugins(),
        lambda m: list(m.viewers),
        lambda m: len(m.orchestrators),
        lambda m: m.components.entries(),
    ],
)
def test_listings_load_every_entry_point(counted: list[Any], query: Any) -> None:
    manager = PluginManager()
    query(manager)
    assert [ep.loads for ep in counted] == [1, 1]
    assert "HrcoreVectors" in manager.artifact_types
    assert len(manager._errors) == 1


def test_provider_of_a_pipelines_own_class_loads_nothing(
    counted: list[Any], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_pipeline_components.py").write_text(
        "from headrace_core import component\n\n"
        "@component\n"
        "def Double(x: int) -> int:\n"
        "    return 2 * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_pipeline_components  # type: ignore[import-not-found]

    manager = PluginManager()
    assert manager.provider_of(my_pipeline_components.Double) is None
    assert [ep.loads for ep in counted] == [0, 0]
    # A class in a plugin's top-level package: every entry point loads, and it is found.
    assert manager.provider_of(Trainer) == Provenance("vectors", "hrcore-vectors", "1.2.3")
    assert [ep.loads for ep in counted] == [1, 1]


def test_provider_of_an_installed_class_loads_every_entry_point(counted: list[Any]) -> None:
    # pluggy lives in site-packages: a plugin of another package could have registered it.
    import pluggy

    manager = PluginManager()
    assert manager.provider_of(pluggy.PluginManager) is None
    assert [ep.loads for ep in counted] == [1, 1]


def test_concurrent_lookups_wait_for_one_load(
    counted: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    class SlowPlugin(VectorsPlugin):
        @hookimpl
        def headrace_register_artifact_types(self, registry: ArtifactTypeRegistry) -> None:
            time.sleep(0.05)
            registry.add(Vectors)

    counted[0]._obj = SlowPlugin()
    manager = PluginManager()
    found: list[bool] = []

    def look() -> None:
        found.append("HrcoreVectors" in manager.artifact_types)

    threads = [threading.Thread(target=look) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == [True] * 4
    assert [ep.loads for ep in counted] == [1, 1]


def test_a_hook_looking_up_during_the_load_sees_what_is_registered(counted: list[Any]) -> None:
    seen: list[bool] = []

    class LookingPlugin:
        @hookimpl
        def headrace_register_components(self, registry: ComponentRegistry) -> None:
            manager = get_plugin_manager()
            seen.append("HrcoreVectors" in manager.artifact_types)
            seen.append("Unknown" in manager.artifact_types)

    counted.append(_CountingEntryPoint("looking", "hrcore-looking", LookingPlugin(), "x.p"))
    reset_plugin_manager()
    try:
        assert "Trainer" in get_plugin_manager().components
    finally:
        reset_plugin_manager()
    assert seen == [True, False]


def test_explicit_plugins_with_autoload_load_everything_at_once(counted: list[Any]) -> None:
    manager = PluginManager(plugins=[("zz-duplicate", DuplicatePlugin(), "hrcore-duplicate")])
    assert [ep.loads for ep in counted] == [1, 1]
    assert sorted(e.plugin for e in manager.errors) == ["broken", "zz-duplicate"]
