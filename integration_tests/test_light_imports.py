"""The core, plugin loading and compilation stay light, third-party plugins installed.

Each check runs in a fresh interpreter. Stand-in packages named like the heavy libraries are put
first on the path, so an import that a ``try/except ImportError`` would hide where TensorFlow is
not installed is still caught.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headrace_core.testing import HEAVY_MODULES

HEAVY = sorted({"tensorflow", "apache_beam", "tfx_bsl", *HEAVY_MODULES})
IMPORT_TIME_RUNS = 5


@pytest.fixture
def heavy_stand_ins(tmp_path: Path) -> Path:
    """A directory of empty packages named like the heavy libraries."""
    root = tmp_path / "stand-ins"
    for name in HEAVY:
        package = root / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("STAND_IN = True\n", "utf-8")
    return root


def run_python(script: str, stand_ins: Path | None = None) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter; it prints one JSON object as its last line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    if stand_ins is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(stand_ins), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return output


_LOAD_AND_COMPILE = """
    import json, sys, time

    start = time.perf_counter()
    import headrace_core
    import_s = time.perf_counter() - start

    from headrace_core import ir
    from headrace_core.pipeline_file import load_pipeline_file
    from headrace_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    document = ir.compile(load_pipeline_file({file!r}))
    total_s = time.perf_counter() - start
    {extra}
    heavy = {heavy!r}
    print(json.dumps({{
        "heavy": sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}}),
        "modules": sorted(m for m in sys.modules if m.startswith("headrace_example_plugin")),
        "components": list(manager.components),
        "providers": sorted(
            n["provider"]["distribution"] for n in document["nodes"] if n["provider"]
        ),
        "import_s": import_s,
        "total_s": total_s,
    }}))
"""


def load_and_compile_script(pipeline_file: Path, extra: str = "") -> str:
    return _LOAD_AND_COMPILE.format(file=str(pipeline_file), extra=extra, heavy=HEAVY)


@pytest.mark.needs_example_plugin
def test_loading_plugins_and_compiling_imports_nothing_heavy(
    pipeline_file: Path, heavy_stand_ins: Path
) -> None:
    found = run_python(load_and_compile_script(pipeline_file), heavy_stand_ins)

    # The check is not vacuous: the plugin was loaded and its component compiled.
    assert "EmbeddingGen" in found["components"]
    assert found["providers"] == ["headrace-example-plugin", "headrace-example-plugin"]
    assert found["heavy"] == []
    # The component module is imported; its executor is not, until a node runs.
    assert "headrace_example_plugin.component" in found["modules"]
    assert "headrace_example_plugin.executor" not in found["modules"]


@pytest.mark.needs_example_plugin
def test_the_heavy_import_check_sees_a_heavy_import(
    pipeline_file: Path, heavy_stand_ins: Path
) -> None:
    """Control: the same check reports a heavy module when one is imported."""
    script = load_and_compile_script(pipeline_file, extra="import apache_beam")

    found = run_python(script, heavy_stand_ins)

    assert found["heavy"] == ["apache_beam"]


def test_importing_the_core_imports_nothing_heavy(heavy_stand_ins: Path) -> None:
    script = f"""
        import json, sys
        import headrace_core
        heavy = {HEAVY!r}
        print(json.dumps({{"heavy": sorted(m for m in sys.modules if m.split(".")[0] in heavy)}}))
    """
    assert run_python(script, heavy_stand_ins)["heavy"] == []


@pytest.mark.needs_example_plugin
def test_import_time_of_headrace_core(
    pipeline_file: Path, measurement: Callable[[str], None]
) -> None:
    """Measured and reported, not asserted: machines differ too much for a fixed budget."""
    runs = [run_python(load_and_compile_script(pipeline_file)) for _ in range(IMPORT_TIME_RUNS)]
    import_ms = [r["import_s"] * 1000 for r in runs]
    total_ms = [r["total_s"] * 1000 for r in runs]

    python = sys.version.split()[0]
    measurement(
        f"import headrace_core: median {statistics.median(import_ms):.1f} ms, "
        f"min {min(import_ms):.1f} ms ({IMPORT_TIME_RUNS} fresh interpreters, Python {python})"
    )
    measurement(
        "import + load all plugins + compile the example pipeline: "
        f"median {statistics.median(total_ms):.1f} ms, min {min(total_ms):.1f} ms"
    )
    assert all(ms > 0 for ms in import_ms)
