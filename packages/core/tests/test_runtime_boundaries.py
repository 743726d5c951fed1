"""The runtime's boundaries, checked on the source of every package in the repository.

- The local runner, the orchestrator adapters, the CLI and the node entry point reach the
  runtime through ``headrace_core.runtime``'s facade only: never a private module of it,
  never the old ``headrace_core.launcher``.
- Paths under a pipeline root are built by ``PipelineLayout`` alone.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SOURCES = sorted(REPO.glob("packages/*/src/**/*.py"))
CORE = REPO / "packages" / "core" / "src" / "headrace_core"

#: The runtime's consumers named by the design: each must import the facade.
CONSUMERS = [
    CORE / "orchestration" / "local.py",
    CORE / "cli" / "_run.py",
    CORE / "cli" / "_inspect.py",
    CORE / "launch.py",
    REPO / "packages" / "beam" / "src" / "headrace_beam" / "runner.py",
    REPO / "packages" / "beam" / "src" / "headrace_beam" / "_steps.py",
    REPO / "packages" / "airflow" / "src" / "headrace_airflow" / "runner.py",
    REPO / "packages" / "kubeflow" / "src" / "headrace_kubeflow" / "runner.py",
]


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(REPO)}:{line}"


def test_the_sources_are_found() -> None:
    assert len(SOURCES) > 50
    assert all(path.exists() for path in CONSUMERS)


def test_nothing_outside_the_runtime_imports_its_private_modules() -> None:
    runtime = CORE / "runtime"
    offenders = [
        f"{_where(path, line)} imports {module}"
        for path in SOURCES
        if runtime not in path.parents and path != CORE / "launcher.py"
        for line, module in _imports(path)
        if module.startswith("headrace_core.runtime._") or module == "headrace_core.launcher"
    ]
    assert offenders == []


@pytest.mark.parametrize("path", CONSUMERS, ids=lambda p: p.name)
def test_each_consumer_goes_through_the_facade(path: Path) -> None:
    modules = {module for _, module in _imports(path)}
    assert "headrace_core.runtime" in modules


# A join whose first part is a pipeline root: `os.path.join(root, ...)`,
# `os.path.join(session.pipeline_root, ...)`, `os.path.join(document["pipeline"]["root"], ...)`.
_ROOT_JOIN = re.compile(
    r"os\.path\.join\(\s*(?:[\w.]*pipeline_root\b|[\w.\[\]\"']*\[\s*[\"']root[\"']\s*\])"
)


def test_only_the_layout_joins_paths_under_a_pipeline_root() -> None:
    offenders = []
    for path in SOURCES:
        if path == CORE / "layout.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _ROOT_JOIN.search(line) or re.search(r"[\"']\.headrace[\"']\s*,", line):
                offenders.append(f"{_where(path, number)}: {line.strip()}")
    assert offenders == []


def test_the_check_would_catch_a_hand_built_path() -> None:
    for line in (
        'os.path.join(session.pipeline_root, ".headrace", "runs")',
        'os.path.join(document["pipeline"]["root"], "x")',
        "os.path.join(pipeline_root, node_id)",
    ):
        assert _ROOT_JOIN.search(line) or re.search(r"[\"']\.headrace[\"']\s*,", line), line
