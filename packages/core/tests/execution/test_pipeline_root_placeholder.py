"""Paths written against the pipeline root follow ``--pipeline-root``, the cache key included."""

from __future__ import annotations

from pathlib import Path

import pytest
from hrexec_util import as_json, headrace

PIPELINE = """\
from __future__ import annotations

import os

from headrace_core import PIPELINE_ROOT, Parameter, Pipeline, component


@component
def Make() -> int:
    return 1


@component
def Push(number: int, base_directory: Parameter[str] = "") -> str:
    os.makedirs(base_directory, exist_ok=True)
    with open(os.path.join(base_directory, "pushed"), "w") as f:
        f.write(str(number))
    return base_directory


make = Make()
push = Push(number=make.outputs["output"], base_directory=os.path.join(PIPELINE_ROOT, "serving"))
pipeline = Pipeline("rooted", "unused-default-root", [make, push])
"""


def _run(path: Path, root: Path, *extra: str) -> dict[str, str]:
    args = ("run", str(path), "--pipeline-root", str(root), "--json", *extra)
    result = as_json(headrace(*args, cwd=path.parent))
    assert result["succeeded"], result
    return {k: v["status"] for k, v in result["nodes"].items()}


@pytest.mark.sqlite_only("two roots, a store in each (metadata.sqlite); on MariaDB they share one")
def test_each_root_gets_its_own_push(tmp_path: Path) -> None:
    path = tmp_path / "src" / "rooted.py"
    path.parent.mkdir()
    path.write_text(PIPELINE)
    for name in ("A", "B"):
        assert _run(path, tmp_path / name) == {"Make": "complete", "Push": "complete"}
        assert (tmp_path / name / "serving" / "pushed").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A", "B", "src"]
    assert sorted(p.name for p in (tmp_path / "src").iterdir() if p.name != "__pycache__") == [
        "rooted.py"
    ]


def test_one_store_for_two_roots_reruns_only_what_derives_from_the_root(tmp_path: Path) -> None:
    path = tmp_path / "rooted.py"
    path.write_text(PIPELINE)
    shared = ("--metadata", f"sqlite:///{tmp_path / 'shared.sqlite'}")
    assert _run(path, tmp_path / "A", *shared) == {"Make": "complete", "Push": "complete"}
    # Make's key does not involve the root: cached. Push's destination is under the new root.
    assert _run(path, tmp_path / "B", *shared) == {"Make": "cached", "Push": "complete"}
    assert (tmp_path / "B" / "serving" / "pushed").read_text() == "1"
    why = as_json(
        headrace(
            "cache",
            "why",
            str(path),
            "Push",
            "--pipeline-root",
            str(tmp_path / "C"),
            "--json",
            *shared,
            cwd=tmp_path,
        )
    )
    assert why["prediction"] == "run"
    assert any(c.startswith("parameter 'base_directory'") for c in why["changes"]), why
