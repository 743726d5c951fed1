"""The core stays light: importing it, loading plugins and compiling import no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from headrace_core import Artifact
from headrace_core.artifacts import STANDARD_ARTIFACT_TYPES
from headrace_core.plugins import PluginManager, get_plugin_manager
from headrace_core.testing import (
    HEAVY_MODULES,
    ConformanceError,
    check_artifact_type,
    check_component,
    imported_heavy_modules,
)

FIXTURES = Path(__file__).parent / "fixtures"
FULL_PIPELINE = FIXTURES / "hrcore_pipeline.py"

# Records every attempt to import a heavy module, installed or not, and refuses it.
_GUARD = """
import sys

HEAVY = {heavy!r}
attempts = []


class Guard:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            attempts.append(name)
            raise ImportError(f"{{name}} must not be imported")
        return None


sys.meta_path.insert(0, Guard())
"""


def _run_guarded(code: str) -> dict[str, object]:
    script = _GUARD.format(heavy=list(HEAVY_MODULES)) + textwrap.dedent(code)
    script += textwrap.dedent(
        """
        import json
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
        print(json.dumps({"attempts": attempts, "loaded": loaded, "result": result}))
        """
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(FIXTURES), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    data: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def test_heavy_modules_list() -> None:
    assert set(HEAVY_MODULES) >= {"tensorflow", "apache_beam", "tfx_bsl"}


def test_import_load_plugins_and_compile_import_nothing_heavy() -> None:
    data = _run_guarded(
        f"""
        import headrace_core
        from headrace_core import ir
        from headrace_core.pipeline_file import load_pipeline_file
        from headrace_core.plugins import get_plugin_manager

        manager = get_plugin_manager()
        document = ir.compile(load_pipeline_file({str(FULL_PIPELINE)!r}))
        ir.validate(document)
        ir.compile(ir.load(document))
        result = [len(document["nodes"]), len(manager.artifact_types)]
        """
    )
    assert data == {"attempts": [], "loaded": [], "result": [14, 22]}


def test_cli_compile_imports_nothing_heavy(tmp_path: Path) -> None:
    out = tmp_path / "ir.json"
    data = _run_guarded(
        f"""
        from headrace_core.cli import main

        result = [main(["compile", {str(FULL_PIPELINE)!r}, "-o", {str(out)!r}]),
                  main(["plugins", "--json"])]
        """
    )
    assert data["attempts"] == []
    assert data["result"] == [0, 0]
    assert out.is_file()


def test_the_guard_catches_an_attempt() -> None:
    """The check above is real: an import of a heavy module is recorded, installed or not."""
    data = _run_guarded(
        """
        try:
            import tensorflow.keras
        except ImportError:
            pass
        result = None
        """
    )
    assert data["attempts"] == ["tensorflow"]


def test_imported_heavy_modules_helper() -> None:
    code = (
        "from headrace_core import ir\n"
        "from headrace_core.pipeline_file import load_pipeline_file\n"
        f"ir.compile(load_pipeline_file({str(FULL_PIPELINE)!r}))\n"
    )
    assert imported_heavy_modules(["headrace_core", "headrace_core.ir"], code=code) == []


def test_imported_heavy_modules_helper_reports_failures() -> None:
    with pytest.raises(ConformanceError, match="import check failed"):
        imported_heavy_modules(["hrcore_no_such_module_xyz"])


# Conformance helpers -------------------------------------------------------------------------


@pytest.mark.parametrize("artifact_type", STANDARD_ARTIFACT_TYPES, ids=lambda t: t.TYPE_NAME)
def test_check_artifact_type_passes_for_standard_types(artifact_type: type[Artifact]) -> None:
    check_artifact_type(artifact_type)
    check_artifact_type(artifact_type, PluginManager(autoload=False))


def test_check_artifact_type_fails_for_unregistered_types() -> None:
    class Unregistered(Artifact):
        TYPE_NAME = "HrcoreUnregistered"

    with pytest.raises(ConformanceError, match="'HrcoreUnregistered' is not registered"):
        check_artifact_type(Unregistered)


def test_check_component() -> None:
    import hrcore_components

    from headrace_core.plugins import hookimpl

    class Plugin:
        @hookimpl
        def headrace_register_artifact_types(self, registry: object) -> None:
            registry.add(hrcore_components.Vectors)  # type: ignore[attr-defined]

    manager = PluginManager(autoload=False, plugins=[("p", Plugin(), "hrcore-p")])
    check_component(hrcore_components.ExampleGen, manager)
    check_component(hrcore_components.Embed, manager)
    with pytest.raises(ConformanceError, match="uses artifact type 'HrcoreVectors'"):
        check_component(hrcore_components.Embed, get_plugin_manager())
    with pytest.raises(
        ConformanceError, match=r"Broken: executor .*Executor\.Nope.*cannot resolve"
    ):
        # A function component's executor resolves; a broken reference fails the check.
        broken = type(
            "Broken",
            (hrcore_components.Summarize,),
            {"EXECUTOR_SPEC": "hrcore_components:Summarize.Executor.Nope"},
        )
        check_component(broken, manager)
    check_component(hrcore_components.Summarize, manager)
