"""A plugin that fails to load is named by every command that uses plugins, not only by
``headrace plugins``: one warning line per error on standard error."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from headrace_core.cli import main
from headrace_core.cli._common import _warn_plugin_errors
from headrace_core.plugins import ENV_DISABLE_AUTOLOAD

RunCli = Callable[..., subprocess.CompletedProcess[str]]
PIPELINE = Path(__file__).parent / "fixtures" / "hrcore_pipeline.py"
WARNING = (
    "headrace: warning: plugin 'hrwarn' from distribution 'hrcore-warn-broken' failed to "
    "import: RuntimeError: broken on purpose"
)


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    """A directory on which importlib.metadata finds one plugin distribution that cannot be
    imported."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "hrcore_warn_broken.py").write_text('raise RuntimeError("broken on purpose")\n')
    info = site / "hrcore_warn_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hrcore-warn-broken\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text("[headrace]\nhrwarn = hrcore_warn_broken\n")
    return site


def _autoload(site: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(site), ENV_DISABLE_AUTOLOAD: ""}


def test_compile_warns_about_a_broken_plugin(
    run_cli: RunCli, broken_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ir.json"
    result = run_cli("compile", str(PIPELINE), "-o", str(out), **_autoload(broken_site))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines.count(WARNING) == 1, result.stderr
    assert out.exists()


def test_compile_to_stdout_keeps_stdout_clean(run_cli: RunCli, broken_site: Path) -> None:
    result = run_cli("compile", str(PIPELINE), **_autoload(broken_site))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("{")
    assert WARNING in result.stderr.splitlines()


def test_no_warning_when_every_plugin_loads(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("compile", str(PIPELINE), "-o", str(tmp_path / "ir.json"))
    assert "headrace: warning" not in result.stderr


def test_the_helper_prints_one_line_per_error(
    capsys: pytest.CaptureFixture[str],
    broken_site: Path,
    monkeypatch: pytest.MonkeyPatch,
    forget_new_modules: None,
) -> None:
    monkeypatch.syspath_prepend(str(broken_site))
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, "0")
    _warn_plugin_errors()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [WARNING]


def test_run_warns_about_a_broken_plugin(
    capsys: pytest.CaptureFixture[str],
    broken_site: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    forget_new_modules: None,
) -> None:
    monkeypatch.syspath_prepend(str(broken_site))
    monkeypatch.setenv(ENV_DISABLE_AUTOLOAD, "0")
    main(["run", str(PIPELINE), "--dry-run", "--pipeline-root", str(tmp_path / "root")])
    assert WARNING in capsys.readouterr().err.splitlines()
