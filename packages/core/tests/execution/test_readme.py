"""The README's "Define pipelines" snippet runs as written: compiled, validated and run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hrexec_util import REPO, as_json, headrace, ok

README = REPO / "README.md"


def _snippet(section: str) -> str:
    text = README.read_text()
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    blocks = re.findall(r"```python\n(.*?)```", text[start : end if end != -1 else None], re.S)
    assert blocks, f"no python block under '## {section}' in {README}"
    return blocks[0]


@pytest.mark.skipif(not README.exists(), reason="the workspace README is not here")
def test_define_pipelines_snippet_compiles_and_runs(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(_snippet("Define pipelines"))
    # The commands printed right under the snippet, as a reader would type them.
    ok(headrace("compile", "pipeline.py", "-o", "pipeline.json", "--validate", cwd=tmp_path))
    document = json.loads((tmp_path / "pipeline.json").read_text())
    assert document["nodes"]
    root = tmp_path / "root"
    result = as_json(
        headrace("run", "pipeline.py", "--json", "--pipeline-root", str(root), cwd=tmp_path)
    )
    assert result["succeeded"], result
    assert {n["status"] for n in result["nodes"].values()} == {"complete"}
