"""Per-definition code keys of a user's module file (headrace_core.source_key)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from headrace_core.cache import diff_parts, executor_fingerprint
from headrace_core.source_key import MODULE_CODE, definition_digests

BASE = '''\
"""Docstring."""
from __future__ import annotations

import json, os
from headrace_core import Parameter, component

import sibling

LIMIT = 10
pipeline = None  # a module-level name that a function's local shadows


def helper(x):
    return x + LIMIT


@component
def A(n: Parameter[int] = 1) -> int:
    pipeline = n  # local: must not pull in the module-level `pipeline`
    return helper(pipeline)


@component
def B(n: Parameter[int] = 1) -> int:
    import sibling_late
    return json.loads(str(n)) + sibling_late.VALUE


if __name__ == "__main__":
    print(A, B, pipeline)
'''


def _file(tmp_path: Path, text: str = BASE) -> Path:
    (tmp_path / "sibling.py").write_text("X = 1\n")
    (tmp_path / "sibling_late.py").write_text("VALUE = 1\n")
    path = tmp_path / "mod.py"
    path.write_text(text)
    return path


def _keys(path: Path, root: str) -> dict[str, str]:
    found = definition_digests(str(path), [root])
    assert found is not None
    return found


def test_a_definition_covers_what_it_reaches_and_nothing_else(tmp_path: Path) -> None:
    path = _file(tmp_path)
    a = _keys(path, "A")
    assert set(a) == {MODULE_CODE, "A", "helper", "LIMIT", "Parameter", "component"}
    b = _keys(path, "B")
    assert set(b) == {MODULE_CODE, "B", "json", "Parameter", "component", "sibling_late.py"}


def test_edits_elsewhere_leave_a_key_alone(tmp_path: Path) -> None:
    path = _file(tmp_path)
    a, b = _keys(path, "A"), _keys(path, "B")
    edits = [
        ("return helper(pipeline)", "return helper(pipeline)  # a comment"),
        ("LIMIT = 10\n", "\n\n# moved\nLIMIT = 10\n"),
        ("import json, os", "import json, os, sys"),  # one alias per unit
        ("print(A, B, pipeline)", "print(pipeline)"),  # the main guard never runs on import
        ("pipeline = None", "pipeline = 1"),
    ]
    for old, new in edits:
        path.write_text(BASE.replace(old, new))
        assert _keys(path, "A") == a, (old, new)
        assert _keys(path, "B") == b, (old, new)


def test_edits_reached_change_only_that_key(tmp_path: Path) -> None:
    path = _file(tmp_path)
    a, b = _keys(path, "A"), _keys(path, "B")
    path.write_text(BASE.replace("LIMIT = 10", "LIMIT = 11"))
    assert _keys(path, "A") != a and _keys(path, "B") == b
    path.write_text(BASE)
    (tmp_path / "sibling_late.py").write_text("VALUE = 2\n")
    assert _keys(path, "A") == a and _keys(path, "B") != b
    (tmp_path / "sibling_late.py").write_text("VALUE = 1\n")
    # A statement with an effect on import counts for every definition.
    path.write_text(BASE.replace("LIMIT = 10\n", "LIMIT = 10\nos.environ['SEED'] = '1'\n"))
    assert _keys(path, "A") != a and _keys(path, "B") != b


def test_unknown_root_or_bad_syntax_falls_back(tmp_path: Path) -> None:
    path = _file(tmp_path)
    assert definition_digests(str(path), ["Missing"]) is None
    path.write_text("def A(:\n")
    assert definition_digests(str(path), ["A"]) is None
    node = {"executor": "mod_not_importable:A.Executor", "source_file": str(path)}
    assert executor_fingerprint(node)["source"] is not None
    assert "definitions" not in executor_fingerprint(node)


def test_fingerprint_and_diff_name_the_definitions(tmp_path: Path) -> None:
    path = _file(tmp_path)
    node = {
        "executor": "mod_not_importable:A.Executor",
        "class": "mod_not_importable:A",
        "source_file": str(path),
    }
    before = executor_fingerprint(node)
    assert set(before["definitions"]) >= {"A", "helper"}
    path.write_text(BASE.replace("return x + LIMIT", "return x + LIMIT + 0"))
    after = executor_fingerprint(node)
    assert after["source"] != before["source"]
    assert diff_parts({"executor": before}, {"executor": after}) == [
        "executor source changed (mod_not_importable:A.Executor): helper"
    ]


def test_digests_are_the_same_in_another_interpreter(tmp_path: Path) -> None:
    path = _file(tmp_path)
    script = textwrap.dedent(
        f"""
        import json
        from headrace_core.source_key import definition_digests
        print(json.dumps(definition_digests({str(path)!r}, ["A"])))
        """
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert outputs.pop().strip() == __import__("json").dumps(_keys(path, "A"))


def test_local_modules_are_followed_through_their_own_imports(tmp_path: Path) -> None:
    (tmp_path / "execs.py").write_text("import deeper\n\nclass Exec:\n    pass\n")
    (tmp_path / "deeper.py").write_text("N = 1\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "util.py").write_text("M = 1\n")
    path = tmp_path / "user.py"
    path.write_text(
        "from execs import Exec\nfrom pkg.util import M\nimport unrelated_sibling\n\n"
        "class Comp:\n    EXECUTOR = Exec\n    LIMIT = M\n"
    )
    (tmp_path / "unrelated_sibling.py").write_text("")
    found = _keys(path, "Comp")
    assert {"execs.py", "deeper.py", "pkg/__init__.py", "pkg/util.py"} <= set(found)
    assert "unrelated_sibling.py" not in found
    (tmp_path / "deeper.py").write_text("N = 2\n")
    assert _keys(path, "Comp")["deeper.py"] != found["deeper.py"]
