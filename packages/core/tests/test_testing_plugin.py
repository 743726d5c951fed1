"""The fixtures and helpers ``headrace_core.testing`` gives every package's tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from headrace_core.plugins import ENV_DISABLE_AUTOLOAD
from headrace_core.plugins.manager import PluginManager
from headrace_core.testing import apply_executor_env, importable, require_test_data, test_data_dir


def test_test_data_dir_prefers_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HEADRACE_TEST_DATA", str(tmp_path))
    assert test_data_dir() == tmp_path


def test_test_data_dir_finds_shared_data_beside_an_ancestor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HEADRACE_TEST_DATA", raising=False)
    (tmp_path / "shared" / "data").mkdir(parents=True)
    deep = tmp_path / "repo" / "packages" / "x" / "tests"
    deep.mkdir(parents=True)
    assert test_data_dir(deep) == tmp_path / "shared" / "data"


def test_require_test_data_fails_naming_the_variable(tmp_path: Path) -> None:
    assert require_test_data(tmp_path) == tmp_path
    with pytest.raises(pytest.fail.Exception, match="set HEADRACE_TEST_DATA"):
        require_test_data(tmp_path / "absent.csv")
    with pytest.raises(pytest.skip.Exception):
        require_test_data(tmp_path / "absent.csv", skip=True)


def test_installed_plugins_loads_them_despite_the_environment(
    installed_plugins: PluginManager,
) -> None:
    # The core's conftest disables autoload for every other test; this fixture undoes it.
    assert ENV_DISABLE_AUTOLOAD not in os.environ
    assert "Examples" in installed_plugins.artifact_types


def test_metadata_store_lives_in_the_pipeline_root(metadata_store: Any, pipeline_root: Path):
    assert (pipeline_root / "metadata.sqlite").exists()


def test_importable_puts_folders_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    monkeypatch.setattr(sys, "path", ["x"])
    importable(tmp_path / "a", tmp_path / "b", tmp_path / "a")
    assert sys.path == [str(tmp_path / "a"), str(tmp_path / "b"), "x"]


def test_apply_executor_env_keeps_what_the_user_set(monkeypatch: pytest.MonkeyPatch) -> None:
    class Component:
        EXECUTOR_ENV = {"HR_TEST_A": "1", "HR_TEST_B": "1"}

    monkeypatch.delenv("HR_TEST_A", raising=False)
    monkeypatch.setenv("HR_TEST_B", "0")
    apply_executor_env(Component)
    assert (os.environ["HR_TEST_A"], os.environ["HR_TEST_B"]) == ("1", "0")
    monkeypatch.delenv("HR_TEST_A")
