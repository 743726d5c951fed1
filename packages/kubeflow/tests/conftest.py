"""Shared set-up: the installed plugins, and the helper modules on sys.path.

kfp is a dependency of headrace-kubeflow, so kfp.local runs in this very environment: the
tests that run pipelines need nothing else (``kfp-requirements.txt`` lists what a separate
KFP environment holds)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from headrace_core.plugins import ENV_ALLOW, ENV_DISABLE_AUTOLOAD, reset_plugin_manager

TESTS = Path(__file__).resolve().parent
# support/: helpers; pipelines/: test pipelines and their components, importable by name as
# a user's own modules are.
for _folder in (TESTS / "support", TESTS / "pipelines"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


@pytest.fixture(autouse=True)
def _installed_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test sees the installed plugins, loaded afresh (this package's among them)."""
    monkeypatch.delenv(ENV_DISABLE_AUTOLOAD, raising=False)
    monkeypatch.delenv(ENV_ALLOW, raising=False)
    monkeypatch.delenv("HEADRACE_KFP_PYTHON", raising=False)
    monkeypatch.delenv("HEADRACE_METADATA", raising=False)  # every task would use it
    reset_plugin_manager()
    yield
    reset_plugin_manager()
