"""Shared set-up: the installed plugins, and the helper modules on sys.path.

kfp is a dependency of headrace-kubeflow, so kfp.local runs in this very environment: the
tests that run pipelines need nothing else (``kfp-requirements.txt`` lists what a separate
KFP environment holds)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from headrace_core.plugins.manager import PluginManager

TESTS = Path(__file__).resolve().parent
# support/: helpers; pipelines/: test pipelines and their components, importable by name as
# a user's own modules are.
for _folder in (TESTS / "support", TESTS / "pipelines"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


@pytest.fixture(autouse=True)
def _plugins(monkeypatch: pytest.MonkeyPatch, installed_plugins: PluginManager) -> None:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""
    monkeypatch.delenv("HEADRACE_KFP_PYTHON", raising=False)
    monkeypatch.delenv("HEADRACE_METADATA", raising=False)  # every task would use it
