"""Function components in one file are keyed per function: editing one re-runs only its node."""

from __future__ import annotations

from pathlib import Path

from hrexec_util import as_json, headrace, ok

PIPELINE = '''\
"""Two function components and the helpers they use."""

from __future__ import annotations

from headrace_core import Parameter, Pipeline, component

import local_helpers

SCALE = 3


def _scaled(value: int) -> int:
    return value * SCALE


@component
def First(n: Parameter[int] = 2) -> int:
    return _scaled(n)


@component
def Second(n: Parameter[int] = 2) -> int:
    return local_helpers.double(n)


pipeline = Pipeline("perfn", ROOT, [First(), Second()])
'''

HELPERS = "def double(value: int) -> int:\n    return 2 * value\n"


def _write(folder: Path, text: str) -> Path:
    path = folder / "perfn_pipeline.py"
    path.write_text(text.replace("ROOT", repr(str(folder / "root"))))
    return path


def _run(path: Path) -> dict[str, str]:
    result = as_json(headrace("run", str(path), "--json", cwd=path.parent))
    assert result["succeeded"], result
    return {k: v["status"] for k, v in result["nodes"].items()}


def test_editing_one_function_reruns_only_its_node(tmp_path: Path) -> None:
    (tmp_path / "local_helpers.py").write_text(HELPERS)
    path = _write(tmp_path, PIPELINE)
    assert _run(path) == {"First": "complete", "Second": "complete"}
    assert _run(path) == {"First": "cached", "Second": "cached"}

    # A comment, a blank line, another function moved down: nothing re-runs.
    _write(tmp_path, PIPELINE.replace("SCALE = 3\n", "# scale of First\n\nSCALE = 3\n"))
    assert _run(path) == {"First": "cached", "Second": "cached"}

    # First's own body.
    edited = PIPELINE.replace("return _scaled(n)", "return _scaled(n) + 0")
    _write(tmp_path, edited)
    why = as_json(headrace("cache", "why", str(path), "First", "--json", cwd=tmp_path))
    assert why["prediction"] == "run"
    assert len(why["changes"]) == 1 and why["changes"][0].startswith("executor source changed")
    assert "First" in why["changes"][0]
    text = ok(headrace("cache", "why", str(path), "Second", cwd=tmp_path)).stdout
    assert "would be cached" in text
    assert _run(path) == {"First": "complete", "Second": "cached"}

    # A module-level constant reached through a helper function: First only.
    edited = edited.replace("SCALE = 3", "SCALE = 4")
    _write(tmp_path, edited)
    why = as_json(headrace("cache", "why", str(path), "First", "--json", cwd=tmp_path))
    assert why["changes"] and "SCALE" in why["changes"][0]
    assert _run(path) == {"First": "complete", "Second": "cached"}

    # A local module beside the file, imported at module level and used by Second only.
    (tmp_path / "local_helpers.py").write_text(HELPERS.replace("2 * value", "value + value"))
    why = as_json(headrace("cache", "why", str(path), "Second", "--json", cwd=tmp_path))
    assert why["changes"] and "local_helpers.py" in why["changes"][0]
    assert _run(path) == {"First": "cached", "Second": "complete"}
    assert _run(path) == {"First": "cached", "Second": "cached"}
