"""tools/release on a copy of the workspace's packages in a temporary git repository.

.nox/tests-core/bin/python -m pytest tools/tests -q     # any Python 3.11 with pytest
"""

from __future__ import annotations

import importlib.machinery
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "release"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The release-relevant files of every package (pyproject, version file, changelog), as
    committed here, in a fresh repository with the tool."""
    root = tmp_path / "repo"
    for pyproject in REPO.glob("packages/*/pyproject.toml"):
        package = pyproject.parent
        for path in [pyproject, package / "CHANGELOG.md", *package.glob("src/*/__about__.py")]:
            if path.exists():
                target = root / path.relative_to(REPO)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
    (root / "tools").mkdir()
    shutil.copy(TOOL, root / "tools" / "release")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


def _set(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def _commit(root: Path) -> None:
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "change")


def release(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "tools" / "release"), *args, "--date", "2027-01-15"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def _about(root: Path, package: str) -> str:
    [about] = (root / "packages" / package).glob("src/*/__about__.py")
    return about.read_text()


def _give_changelog_entries(root: Path, package: str) -> Path:
    """Mark the package's current version released and start an Unreleased section."""
    changelog = root / "packages" / package / "CHANGELOG.md"
    text = changelog.read_text()
    heading = next(line for line in text.splitlines() if line.startswith("## "))
    released = heading.replace("(unreleased)", "(2026-12-01)")
    changelog.write_text(text.replace(heading, f"## Unreleased\n\n- A fix.\n\n{released}", 1))
    _commit(root)
    return changelog


def test_release_bumps_the_version_dates_the_changelog_and_prints_the_tag(repo: Path) -> None:
    changelog = _give_changelog_entries(repo, "pusher")
    result = release(repo, "pusher", "0.1.1")
    assert result.returncode == 0, result.stderr
    assert '__version__ = "0.1.1"' in _about(repo, "pusher")
    text = changelog.read_text()
    assert "## Unreleased\n\n## 0.1.1 (2027-01-15)\n\n- A fix." in text
    assert "git tag headrace-pusher-v0.1.1" in result.stdout
    assert "git commit" in result.stdout and "packages/pusher" in result.stdout
    # Nothing else changed, nothing was committed or tagged.
    changed = _git(repo, "status", "--porcelain").split()
    assert sorted(changed[1::2]) == [
        "packages/pusher/CHANGELOG.md",
        "packages/pusher/src/headrace_pusher/__about__.py",
    ]
    assert _git(repo, "tag", "--list") == ""


def test_a_first_release_of_the_version_already_in_the_files(repo: Path) -> None:
    # The workspace's changelogs open with "## 0.1.0 (unreleased)" and say 0.1.0 already.
    changelog = repo / "packages" / "core" / "CHANGELOG.md"
    assert "## 0.1.0 (unreleased)" in changelog.read_text()
    assert '"0.1.0"' in _about(repo, "core")
    mismatch = release(repo, "headrace-core", "0.1.1")
    assert mismatch.returncode == 1
    assert "headed 0.1.0, not 0.1.1" in mismatch.stderr
    result = release(repo, "headrace-core", "0.1.0")
    assert result.returncode == 0, result.stderr
    assert "## Unreleased\n\n## 0.1.0 (2027-01-15)\n" in changelog.read_text()
    assert "git tag headrace-core-v0.1.0" in result.stdout
    _commit(repo)
    _git(repo, "tag", "headrace-core-v0.1.0")
    again = release(repo, "headrace-core", "0.1.0")
    assert "headrace-core is at 0.1.0; 0.1.0 is not above it" in again.stderr


def test_dry_run_changes_nothing(repo: Path) -> None:
    # A package nothing depends on (headrace-tuner takes headrace-trainer below 0.2).
    _give_changelog_entries(repo, "evaluator")
    result = release(repo, "evaluator", "0.2.0", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "nothing written" in result.stdout
    assert _git(repo, "status", "--porcelain") == ""


def test_refuses_a_dirty_package(repo: Path) -> None:
    _give_changelog_entries(repo, "pusher")
    (repo / "packages" / "pusher" / "new_file.py").write_text("x = 1\n")
    result = release(repo, "pusher", "0.1.1")
    assert result.returncode == 1
    assert "headrace-pusher has uncommitted changes" in result.stderr
    assert "packages/pusher/new_file.py" in result.stderr
    assert '"0.1.0"' in _about(repo, "pusher")


@pytest.mark.parametrize("version", ["0.1.0", "0.0.9", "0.1.0rc1"])
def test_refuses_a_version_that_is_not_above_the_current(repo: Path, version: str) -> None:
    _give_changelog_entries(repo, "pusher")
    result = release(repo, "pusher", version)
    assert result.returncode == 1
    assert f"headrace-pusher is at 0.1.0; {version} is not above it" in result.stderr


def test_refuses_a_malformed_version_and_an_unknown_package(repo: Path) -> None:
    assert "give MAJOR.MINOR.PATCH" in release(repo, "pusher", "1.0").stderr
    unknown = release(repo, "pushr", "1.0.0")
    assert "no package 'pushr'" in unknown.stderr and "pusher" in unknown.stderr


def test_refuses_an_empty_unreleased_section_and_an_existing_tag(repo: Path) -> None:
    changelog = _give_changelog_entries(repo, "pusher")
    _set(changelog, "- A fix.", "")
    _commit(repo)
    assert "empty: nothing to release" in release(repo, "pusher", "0.1.1").stderr
    _git(repo, "tag", "headrace-pusher-v0.1.1")
    assert "tag headrace-pusher-v0.1.1 exists already" in release(repo, "pusher", "0.1.1").stderr


def test_refuses_a_core_version_that_dependants_exclude_and_names_them(repo: Path) -> None:
    _give_changelog_entries(repo, "core")
    pusher = repo / "packages" / "pusher" / "pyproject.toml"
    trainer = repo / "packages" / "trainer" / "pyproject.toml"
    for path in (pusher, trainer):
        text = path.read_text()
        start = text.index('"headrace-core')
        end = text.index('"', start + 1)
        path.write_text(text[:start] + '"headrace-core>=0.1,<0.2' + text[end:])
    _commit(repo)
    result = release(repo, "core", "0.2.0")
    assert result.returncode == 1
    assert "headrace-core 0.2.0 is outside the range these packages accept" in result.stderr
    assert "headrace-pusher (packages/pusher/pyproject.toml): 'headrace-core>=0.1,<0.2'" in (
        result.stderr
    )
    assert "headrace-trainer" in result.stderr
    assert "headrace-examplegen" not in result.stderr  # its range admits 0.2.0
    assert '"0.1.0"' in _about(repo, "core")


def test_a_core_minor_release_needs_no_other_package_to_change(repo: Path) -> None:
    # The policy of docs/releasing.md: component packages accept every core below the next
    # major, so 0.2.0 passes the dependants check as the tree stands.
    _give_changelog_entries(repo, "core")
    result = release(repo, "core", "0.2.0")
    assert result.returncode == 0, result.stderr
    _commit(repo)
    major = release(repo, "core", "1.0.0")
    assert "outside the range" in major.stderr


def test_specifiers() -> None:
    loader = importlib.machinery.SourceFileLoader("release_under_test", str(TOOL))
    module = types.ModuleType(loader.name)
    module.__file__ = str(TOOL)
    sys.modules[loader.name] = module  # dataclasses look their module up there
    try:
        loader.exec_module(module)
    finally:
        del sys.modules[loader.name]
    admits = module.admits
    cases = [
        (">=0.1,<1", "0.9.3", True),
        (">=0.1,<1", "1.0.0", False),
        (">=0.1,<1", "1.0.0rc1", False),  # "<1" excludes 1's own pre-releases
        (">=0.2", "0.1.9", False),
        ("~=0.1.2", "0.1.9", True),
        ("~=0.1.2", "0.2.0", False),
        ("==0.1.*", "0.1.4", True),
        ("!=0.1.3", "0.1.3", False),
        ("", "5.0.0", True),
    ]
    for specifier, version, expected in cases:
        assert admits(specifier, version) is expected, (specifier, version)
